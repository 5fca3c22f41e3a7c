package dev.jround.plugin.dtype.nv;

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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NVFP4 host quantization and the DJL QDQ against independent numpy values (tools/fixtures/quant/make_fp_fixtures.py):
 * plain RTN, tuned V and beta, optimized RTN with and without an importance matrix, padded and short rows, a zero
 * group, subnormal inputs.
 */
class NvQuantFixtureTest {

    private static NDManager manager;
    private final NvDataType type = new NvDataType();
    private static final QuantScheme NVFP4 = QuantScheme.builder().bits(4).groupSize(16).sym(true).dataType("nv_fp").actBits(16).build();

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static LayerSpec spec(JsonNode c) {
        JsonNode w = Fixture.weight(c.get("weight").asText());
        return new LayerSpec("layer", w.get("cols").asInt(), w.get("rows").asInt(), NVFP4, 0, false, "test");
    }

    @TestFactory
    List<DynamicTest> hostQuantizeMatchesFixture() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                LayerSpec spec = spec(c);
                float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
                boolean opt = c.get("mode").asText().startsWith("opt_rtn");
                QuantizedLayer q = type.quantize(spec, w, null, Fixture.floats(c.get("v")), null,
                        Fixture.floats(c.get("beta")), Fixture.floats(c.get("imatrix")), opt);
                assertBits(Fixture.floats(c.get("dequantized")), q.dequantized(), "dequantized");
                FloatElements p = (FloatElements) q.payload();
                assertEquals(FloatElements.ScaleFormat.FP8_E4M3, p.scaleFormat());
                assertEquals((float) c.get("global_scale").asDouble(), p.globalScale(), 0f, "global scale");
                assertBits(Fixture.floats(c.get("block_scales")), p.scales(), "block scales");
                float[] elements = Fixture.floats(c.get("elements"));
                for (int i = 0; i < elements.length; i++) {
                    assertEquals(elements[i], p.format().decode(p.element(i)), 0f, "element " + i);
                }
                int cols = spec.inFeatures();
                for (int i = 0; i < w.length; i++) {
                    // code * scale / G stands for the dequantized weight up to float32 rounding of the reciprocals
                    assertEquals(q.dequantized()[i], p.value(i / cols, i % cols), Math.abs(q.dequantized()[i]) * 1e-6f + 1e-30f);
                }
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> djlQdqMatchesHost() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            if (c.get("mode").asText().startsWith("opt_rtn")) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                LayerSpec spec = spec(c);
                float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
                try (NDManager m = manager.newSubManager()) {
                    NDArray weight = m.create(w, new Shape(spec.outFeatures(), spec.inFeatures()));
                    TunableParams init = type.initTunableParams(weight, NVFP4);
                    float[] v = Fixture.floats(c.get("v"));
                    float[] beta = Fixture.floats(c.get("beta"));
                    TunableParams p = new TunableParams(v == null ? null : m.create(v, init.v().getShape()), null,
                            beta == null ? null : m.create(beta, init.beta().getShape()).clip(0f, 1f), init.wMin(), init.wMax());
                    assertBits(Fixture.floats(c.get("dequantized")), type.qdq(weight, NVFP4, p).toFloatArray(), "qdq");
                }
            }));
        }
        return tests;
    }

    @Test
    void gradientsReachVAndBeta() {
        try (NDManager m = manager.newSubManager()) {
            NDArray weight = m.create(Fixture.floats(Fixture.weight("b").get("data")), new Shape(5, 40));
            TunableParams p = type.initTunableParams(weight, NVFP4);
            p.v().setRequiresGradient(true);
            p.alpha().setRequiresGradient(true);
            p.beta().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = type.qdq(weight, NVFP4, p).sub(weight).mul(m.randomNormal(new Shape(5, 40))).sum();
                gc.backward(loss);
            }
            assertTrue(p.v().getGradient().abs().sum().getFloat() > 0f, "V has a gradient");
            assertTrue(p.beta().getGradient().abs().sum().getFloat() > 0f, "beta has a gradient");
            assertEquals(0f, p.alpha().getGradient().abs().sum().getFloat(), "alpha has no role in NVFP4");
            assertFalse(Float.isNaN(p.beta().getGradient().sum().getFloat()));
        }
    }

    @Test
    void refusesNonFiniteWeightsAndOtherGroupSizes() {
        LayerSpec spec = new LayerSpec("model.layers.1.up", 16, 1, NVFP4, 0, false, "t");
        float[] w = new float[16];
        w[3] = Float.NEGATIVE_INFINITY;
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> type.quantize(spec, w, null, null, null, null, null, false));
        assertTrue(e.getMessage().contains("model.layers.1.up"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> type.quantize(new LayerSpec("x", 32, 1,
                QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("nv_fp").actBits(16).build(), 0, false, "t"), new float[32], null, null, null, null, null, false));
        assertFalse(type.supports(QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("nv_fp").actBits(16).build()));
        assertTrue(type.supports(NVFP4));
    }

    @Test
    void allZeroTensorQuantizesToZeros() {
        LayerSpec spec = new LayerSpec("z", 16, 2, NVFP4, 0, false, "t");
        QuantizedLayer q = type.quantize(spec, new float[32], null, null, null, null, null, true);
        for (float f : q.dequantized()) {
            assertEquals(0f, f);
        }
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
