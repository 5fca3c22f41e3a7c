package dev.jround.plugin.dtype.integer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gradients of the DJL QDQ (STE round, clamp rule, max routing) against torch autograd on the reference formulas. */
class IntQdqGradientTest {

    private final IntDataType type = new IntDataType();

    @Test
    void gradientsMatchTorchReference() {
        int checked = 0;
        for (JsonNode c : Fixture.ROOT.get("gradients")) {
            JsonNode wNode = Fixture.weight(c.get("weight").asText());
            int rows = wNode.get("rows").asInt();
            int cols = wNode.get("cols").asInt();
            QuantScheme scheme = QuantScheme.intWeightOnly(c.get("bits").asInt(), c.get("group_size").asInt(), c.get("sym").asBoolean());
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray w = m.create(Fixture.floats(wNode.get("data")), new Shape(rows, cols));
                TunableParams init = type.initTunableParams(w, scheme);
                NDArray v = m.create(Fixture.floats(c.get("v")), init.v().getShape());
                NDArray alpha = m.create(Fixture.floats(c.get("alpha")), init.alpha().getShape());
                NDArray beta = m.create(Fixture.floats(c.get("beta")), init.beta().getShape());
                NDArray r = m.create(Fixture.floats(c.get("r")), new Shape(rows, cols));
                v.setRequiresGradient(true);
                alpha.setRequiresGradient(true);
                beta.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getEngine(m.getEngine().getEngineName()).newGradientCollector()) {
                    NDArray q = type.qdq(w, scheme, new TunableParams(v, alpha, beta, init.wMin(), init.wMax()));
                    assertArrayEquals(Fixture.floats(c.get("qdq")), q.toFloatArray(), 0f, "forward");
                    gc.backward(q.mul(r).sum());
                }
                assertClose(Fixture.floats(c.get("grad_v")), v.getGradient().toFloatArray(), "dV");
                assertClose(Fixture.floats(c.get("grad_alpha")), alpha.getGradient().toFloatArray(), "dalpha");
                assertClose(Fixture.floats(c.get("grad_beta")), beta.getGradient().toFloatArray(), "dbeta");
                checked++;
            }
        }
        assertEquals(5, checked);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        boolean anyNonZero = false;
        for (int i = 0; i < expected.length; i++) {
            anyNonZero |= expected[i] != 0f;
            // the reference back-propagates through an fp16 scale tensor, so its scale gradients carry fp16 rounding
            assertEquals(expected[i], actual[i], 2e-3f * Math.max(1f, Math.abs(expected[i])), what + "[" + i + "]");
            // exact zeros decide whether sign-SGD moves a parameter at all
            assertEquals(expected[i] == 0f, actual[i] == 0f, what + " zero pattern at " + i);
        }
        assertTrue(anyNonZero, what + " is all zero");
    }
}
