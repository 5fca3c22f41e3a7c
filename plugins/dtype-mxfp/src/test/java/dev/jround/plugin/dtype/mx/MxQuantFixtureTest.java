package dev.jround.plugin.dtype.mx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
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
 * MX host quantization and the DJL QDQ against independent numpy values (tools/fixtures/quant/make_fp_fixtures.py):
 * MXFP4/MXFP8/MXINT4/MXINT8, standard and RCEIL scales, tuned V and beta, optimized RTN with and without an
 * importance matrix, padded and short rows, per channel and per tensor, zero groups, subnormal inputs.
 */
class MxQuantFixtureTest {

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static QuantDataType type(String dataType) {
        return dataType.startsWith("mx_int") ? new MxDataType.Int() : new MxDataType.Fp();
    }

    static LayerSpec spec(JsonNode c) {
        JsonNode w = Fixture.weight(c.get("weight").asText());
        QuantScheme s = QuantScheme.builder().bits(c.get("bits").asInt()).groupSize(c.get("group_size").asInt())
                .dataType(c.get("data_type").asText()).actBits(16).build();
        return new LayerSpec("layer", w.get("cols").asInt(), w.get("rows").asInt(), s, 0, false, "test");
    }

    @TestFactory
    List<DynamicTest> hostQuantizeMatchesFixture() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> checkHost(c)));
        }
        return tests;
    }

    private void checkHost(JsonNode c) {
        LayerSpec spec = spec(c);
        float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
        boolean opt = c.get("mode").asText().startsWith("opt_rtn");
        QuantizedLayer q = type(spec.scheme().dataType()).quantize(spec, w, null, Fixture.floats(c.get("v")), null,
                Fixture.floats(c.get("beta")), Fixture.floats(c.get("imatrix")), opt);
        assertBits(Fixture.floats(c.get("dequantized")), q.dequantized(), "dequantized");
        FloatElements p = (FloatElements) q.payload();
        float[] exps = Fixture.floats(c.get("exponents"));
        float[] elements = Fixture.floats(c.get("elements"));
        int cols = spec.inFeatures();
        for (int r = 0; r < spec.outFeatures(); r++) {
            for (int col = 0; col < cols; col++) {
                int i = r * cols + col;
                assertEquals(elements[i], p.format().decode(p.element(i)), 0f, "element " + i);
                // the payload's value is the dequantized weight exactly (power-of-two scales)
                assertEquals(q.dequantized()[i], p.value(r, col), 0f, "value " + i);
            }
        }
        for (int g = 0; g < exps.length; g++) {
            assertEquals(Math.scalb(1f, (int) exps[g]), p.scales()[g], 0f, "scale " + g);
        }
    }

    @TestFactory
    List<DynamicTest> djlQdqMatchesHost() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            String mode = c.get("mode").asText();
            if (mode.startsWith("opt_rtn")) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                LayerSpec spec = spec(c);
                float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
                QuantDataType t = type(spec.scheme().dataType());
                try (NDManager m = manager.newSubManager()) {
                    NDArray weight = m.create(w, new Shape(spec.outFeatures(), spec.inFeatures()));
                    TunableParams init = t.initTunableParams(weight, spec.scheme());
                    float[] v = Fixture.floats(c.get("v"));
                    float[] beta = Fixture.floats(c.get("beta"));
                    TunableParams p = new TunableParams(v == null ? null : m.create(v, init.v().getShape()), null,
                            beta == null ? null : m.create(beta, init.beta().getShape()), init.wMin(), init.wMax());
                    // the tuner clamps beta to [0, 1] before every QDQ
                    if (p.beta() != null) {
                        p = new TunableParams(p.v(), null, p.beta().clip(0f, 1f), p.wMin(), p.wMax());
                    }
                    assertBits(Fixture.floats(c.get("dequantized")), t.qdq(weight, spec.scheme(), p).toFloatArray(), "qdq");
                }
            }));
        }
        return tests;
    }

    @Test
    void gradientsReachVAndBeta() {
        try (NDManager m = manager.newSubManager()) {
            QuantScheme s = QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_fp").actBits(16).build();
            float[] w = Fixture.floats(Fixture.weight("b").get("data"));
            NDArray weight = m.create(w, new Shape(5, 40));
            QuantDataType t = new MxDataType.Fp();
            TunableParams p = t.initTunableParams(weight, s);
            p.v().setRequiresGradient(true);
            p.alpha().setRequiresGradient(true);
            p.beta().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray target = m.randomNormal(new Shape(5, 40));
                NDArray loss = t.qdq(weight, s, p).sub(weight).mul(target).sum();
                gc.backward(loss);
            }
            assertTrue(p.v().getGradient().abs().sum().getFloat() > 0f, "V has a gradient");
            assertTrue(p.beta().getGradient().abs().sum().getFloat() > 0f, "beta has a gradient (learnable clipping)");
            assertEquals(0f, p.alpha().getGradient().abs().sum().getFloat(), "alpha has no role in MX");
            assertFalse(Float.isNaN(p.beta().getGradient().sum().getFloat()));
        }
    }

    @Test
    void nonFiniteWeightsAreRefused() {
        QuantScheme s = QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_fp").actBits(16).build();
        LayerSpec spec = new LayerSpec("model.layers.0.q", 32, 1, s, 0, false, "t");
        float[] w = new float[32];
        w[7] = Float.NaN;
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new MxDataType.Fp().quantize(spec, w, null, null, null, null, null, false));
        assertTrue(e.getMessage().contains("model.layers.0.q") && e.getMessage().contains("NaN"), e.getMessage());
        w[7] = Float.POSITIVE_INFINITY;
        assertThrows(InvalidInputException.class, () -> new MxDataType.Fp().quantize(spec, w, null, null, null, null, null, true));
    }

    @Test
    void supportsOnlyItsFamilies() {
        assertTrue(new MxDataType.Fp().supports(QuantScheme.builder().bits(8).groupSize(32).sym(true).dataType("mx_fp").actBits(8).build()));
        assertTrue(new MxDataType.Fp().supports(QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_fp_rceil").actBits(4).build()));
        assertFalse(new MxDataType.Fp().supports(QuantScheme.builder().bits(6).groupSize(32).sym(true).dataType("mx_fp").actBits(16).build()));
        assertFalse(new MxDataType.Fp().supports(QuantScheme.intWeightOnly(4, 32, true)));
        assertTrue(new MxDataType.Int().supports(QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_int").actBits(4).build()));
        assertFalse(new MxDataType.Int().supports(QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_fp").actBits(4).build()));
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
