package dev.jround.plugin.gguf;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jround.spi.quant.GgmlBlocks;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SignRound's tuning QDQ of the GGUF types (docs/algorithms.md): the differentiable DJL face and the host encoder agree bit for
 * bit for the same V/alpha/beta, the QDQ is a sensible quantizer, and gradients reach every tuned tensor.
 */
class TunedQdqTest {

    private static final int ROWS = 6;

    /** Tuned parameters in the grouped layout of the scheme, V in [-0.5, 0.5], alpha/beta in [0.6, 1]. */
    private record Tuned(float[] v, float[] alpha, float[] beta) {
    }

    private static Tuned tuned(int groups, int groupLength, long seed) {
        Random r = new Random(seed);
        float[] v = new float[groups * groupLength];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() - 0.5f;
        float[] a = new float[groups];
        float[] b = new float[groups];
        for (int g = 0; g < groups; g++) {
            a[g] = 0.6f + 0.4f * r.nextFloat();
            b[g] = 0.6f + 0.4f * r.nextFloat();
        }
        a[0] = 1f;
        b[0] = 1f;
        return new Tuned(v, a, b);
    }

    private static TunableParams params(NDManager m, GgufDataType dt, NDArray x, QuantScheme s, Tuned t) {
        TunableParams init = dt.initTunableParams(x, s);
        Shape vs = init.v().getShape();
        return new TunableParams(m.create(t.v, vs), m.create(t.alpha), m.create(t.beta), init.wMin(), init.wMax());
    }

    @ParameterizedTest(name = "{0} cols {1} -> {2}")
    @CsvSource({
            "GGUF:Q4_K_M, 256, Q4_K", "GGUF:Q5_K_S, 512, Q5_K", "GGUF:Q2_K_S, 256, Q2_K", "GGUF:Q3_K_M, 256, Q3_K",
            "GGUF:Q6_K, 512, Q6_K", "GGUF:Q4_1, 64, Q4_1", "GGUF:Q5_1, 96, Q5_1",
            "GGUF:Q4_K_M, 64, Q5_0", "GGUF:Q5_K_M, 64, Q5_1", "GGUF:Q2_K_S, 64, Q4_0", "GGUF:Q6_K, 96, Q8_0",
            "GGUF:Q4_K_M, 172, F16"})
    void djlQdqAndHostBlocksAgreeBitForBit(String preset, int cols, String expectedType) {
        QuantScheme s = new GgufSchemePresets().presets().get(preset);
        GgufDataType dt = new GgufDataType();
        float[] w = RoundTripTest.gaussian(ROWS * cols, cols);
        w[3] = -0.25f;
        for (int i = 0; i < 16; i++) w[cols + i] = 0f; // an all-zero sub-block: zero scales and mins
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(w, new Shape(ROWS, cols));
            TunableParams init = dt.initTunableParams(x, s);
            int groups = (int) init.alpha().size();
            Tuned t = tuned(groups, (int) (init.v().size() / groups), cols + 11);
            float[] djl = dt.qdq(x, s, params(m, dt, x, s, t)).toFloatArray();
            QuantizedLayer l = dt.quantize(new LayerSpec("l", cols, ROWS, s, 0, false, "t"), w, null, t.v, t.alpha, t.beta,
                    null, false);
            assertEquals(expectedType, ((GgmlBlocks) l.payload()).type());
            CodecFixtureTest.assertBitsEqual(l.dequantized(), djl, preset + " tuned qdq vs blocks");
            GgmlType type = GgmlType.valueOf(expectedType);
            byte[] blocks = ((GgmlBlocks) l.payload()).blocks();
            CodecFixtureTest.assertBitsEqual(GgmlQuants.dequantize(type, blocks, w.length), l.dequantized(), "blocks decode");
            if (!type.isFloat()) {
                // random V moves codes by up to half a step, so this only guards against a broken quantizer
                assertTrue(relativeRmse(w, djl) < 0.35 * Math.pow(2, 4 - Math.min(4, bitsOf(type))),
                        "tuned qdq of " + type + " is a quantizer: rel. RMSE " + relativeRmse(w, djl));
            }
        }
    }

    private static int bitsOf(GgmlType t) {
        return Integer.parseInt(t.name().substring(1, 2));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"GGUF:Q4_K_M", "GGUF:Q2_K_S", "GGUF:Q3_K_M", "GGUF:Q6_K", "GGUF:Q4_1"})
    void plainMinMaxIsCloseToTheWeights(String preset) {
        // V = 0, alpha = beta = 1: the min/max k-quant is a plain quantizer whose error shrinks with the bits
        QuantScheme s = new GgufSchemePresets().presets().get(preset);
        GgufDataType dt = new GgufDataType();
        float[] w = RoundTripTest.gaussian(ROWS * 256, 21);
        QuantizedLayer l = dt.quantize(new LayerSpec("l", 256, ROWS, s, 0, false, "t"), w, null,
                new float[w.length], null, null, null, false);
        QuantizedLayer rtn = dt.quantize(new LayerSpec("l", 256, ROWS, s, 0, false, "t"), w, null, null, null, null,
                null, false);
        double tunedErr = relativeRmse(w, l.dequantized());
        double rtnErr = relativeRmse(w, rtn.dequantized());
        // the searched RTN is better, but the min/max start must be in the same range (measured: at most 1.18x its error, for Q2_K)
        assertTrue(tunedErr < 1.25 * rtnErr, preset + ": min/max " + tunedErr + " vs searched RTN " + rtnErr);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"GGUF:Q4_K_M", "GGUF:Q5_K_M", "GGUF:Q2_K_S", "GGUF:Q3_K_M", "GGUF:Q6_K", "GGUF:Q4_1"})
    void gradientsReachVAlphaAndBeta(String preset) {
        QuantScheme s = new GgufSchemePresets().presets().get(preset);
        GgufDataType dt = new GgufDataType();
        int cols = 256;
        float[] w = RoundTripTest.gaussian(ROWS * cols, 5);
        float[] target = RoundTripTest.gaussian(ROWS * cols, 6);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(w, new Shape(ROWS, cols));
            NDArray y = m.create(target, new Shape(ROWS, cols)).mul(0.1f).add(x);
            TunableParams init = dt.initTunableParams(x, s);
            int groups = (int) init.alpha().size();
            TunableParams p = params(m, dt, x, s, tuned(groups, (int) (init.v().size() / groups), 9));
            p.v().setRequiresGradient(true);
            p.alpha().setRequiresGradient(true);
            p.beta().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = dt.qdq(x, s, p).sub(y).square().sum();
                gc.backward(loss);
            }
            boolean sym = s.sym();
            for (NDArray a : new NDArray[]{p.v(), p.alpha(), p.beta()}) {
                float[] g = a.getGradient().toFloatArray();
                // symmetric scales follow the larger of -lo*alpha and hi*beta: about half the groups feed each
                int need = sym && a != p.v() ? g.length / 4 : g.length / 2;
                int nonZero = 0;
                for (float f : g) {
                    assertTrue(Float.isFinite(f), preset + ": finite gradients");
                    if (f != 0) nonZero++;
                }
                assertTrue(nonZero > need, preset + ": " + nonZero + " of " + g.length + " gradients are non-zero");
            }
        }
    }

    private static double relativeRmse(float[] ref, float[] got) {
        double e = 0;
        double n = 0;
        for (int i = 0; i < ref.length; i++) {
            e += (ref[i] - got[i]) * (double) (ref[i] - got[i]);
            n += ref[i] * (double) ref[i];
        }
        return Math.sqrt(e / n);
    }
}
