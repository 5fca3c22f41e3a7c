package dev.jround.plugin.dtype.fp8;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * FP8 host quantization and the DJL QDQ against independent numpy values (tools/fixtures/quant/make_fp_fixtures.py):
 * per tensor, per channel, groups of 32, 2-D tiles with partial edge tiles; plain RTN and tuned V and beta; zero
 * groups (the scale floor), subnormal elements, saturation.
 */
class Fp8QuantFixtureTest {

    private static NDManager manager;
    private final Fp8DataType type = new Fp8DataType();

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static Fp8Layout layout(JsonNode c, int rows, int cols) {
        JsonNode tile = c.get("tile");
        return tile == null || tile.isNull() ? Fp8Layout.grouped(rows, cols, c.get("group_size").asInt())
                : Fp8Layout.blocks(rows, cols, tile.get(0).asInt(), tile.get(1).asInt());
    }

    @TestFactory
    List<DynamicTest> hostQuantizeMatchesFixture() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                JsonNode wj = Fixture.weight(c.get("weight").asText());
                int rows = wj.get("rows").asInt();
                int cols = wj.get("cols").asInt();
                float[] w = Fixture.floats(wj.get("data"));
                Fp8Layout layout = layout(c, rows, cols);
                Fp8Quant.Grouped r = Fp8Quant.quantize(layout.toGroups(w), layout.numGroups(), layout.groupLength(),
                        Fixture.floats(c.get("v")), Fixture.floats(c.get("beta")));
                assertBits(Fixture.floats(c.get("dequantized")), layout.fromGroups(r.dequantized()), "dequantized");
                assertBits(Fixture.floats(c.get("elements")), layout.fromGroups(r.elements()), "elements");
                assertBits(Fixture.floats(c.get("scales")), r.scales(), "scales");
                if (!layout.tiled()) {
                    QuantScheme s = QuantScheme.builder().bits(8).groupSize(c.get("group_size").asInt()).dataType("fp").build();
                    QuantizedLayer q = type.quantize(new LayerSpec("layer", cols, rows, s, 0, false, "t"), w, null,
                            Fixture.floats(c.get("v")), null, Fixture.floats(c.get("beta")), null, false);
                    assertBits(Fixture.floats(c.get("dequantized")), q.dequantized(), "layer dequantized");
                    FloatElements p = (FloatElements) q.payload();
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(q.dequantized()[i], p.value(i / cols, i % cols), 0f, "payload value " + i);
                    }
                }
                try (NDManager m = manager.newSubManager()) {
                    NDArray weight = m.create(w, new Shape(rows, cols));
                    float[] v = Fixture.floats(c.get("v"));
                    float[] beta = Fixture.floats(c.get("beta"));
                    Shape vs = new Shape(layout.numGroups(), layout.groupLength());
                    TunableParams p = new TunableParams(v == null ? null : m.create(v, vs), null,
                            beta == null ? null : m.create(beta).clip(0f, 1f), null, null);
                    assertBits(Fixture.floats(c.get("dequantized")), Fp8Qdq.qdq(weight, layout, p).toFloatArray(), "qdq");
                }
            }));
        }
        return tests;
    }

    @Test
    void gradientsReachVAndBeta() {
        try (NDManager m = manager.newSubManager()) {
            QuantScheme s = QuantScheme.builder().bits(8).groupSize(-1).sym(true).dataType("fp").actBits(16).build();
            NDArray weight = m.create(Fixture.floats(Fixture.weight("b").get("data")), new Shape(5, 40));
            TunableParams p = type.initTunableParams(weight, s);
            p.v().setRequiresGradient(true);
            p.beta().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(type.qdq(weight, s, p).sub(weight).mul(m.randomNormal(new Shape(5, 40))).sum());
            }
            assertTrue(p.v().getGradient().abs().sum().getFloat() > 0f, "V has a gradient");
            assertTrue(p.beta().getGradient().abs().sum().getFloat() > 0f, "beta has a gradient");
        }
    }

    @Test
    void refusesNonFiniteWeightsAndOtherBits() {
        QuantScheme s = QuantScheme.builder().bits(8).groupSize(0).sym(true).dataType("fp").actBits(16).build();
        float[] w = new float[8];
        w[2] = Float.NaN;
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> type.quantize(new LayerSpec("lm.x", 8, 1, s, 0, false, "t"), w, null, null, null, null, null, false));
        assertTrue(e.getMessage().contains("lm.x"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> type.quantize(new LayerSpec("lm.x", 8, 1,
                QuantScheme.builder().bits(4).groupSize(0).sym(true).dataType("fp").actBits(16).build(), 0, false, "t"), new float[8], null, null, null, null, null, false));
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                if (bad++ < 5) {
                    first.append(" [").append(i).append("] ").append(expected[i]).append(" vs ").append(actual[i]);
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + expected.length + " differ:" + first);
        }
    }
}
