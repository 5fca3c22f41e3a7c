package dev.jround.plugin.dtype.nv;

import dev.jround.spi.tensor.Floats;

import java.util.stream.IntStream;

/**
 * Exact host-side NVFP4 in float32 over groups of 16 (docs/algorithms.md): a per-tensor global scale
 * {@code G = 448 * 6 / max|W|}, per group an FP8 E4M3 block scale {@code G * max / 6}, E2M1 elements.
 */
final class NvQuant {

    static final float FP4_MAX = 6f;
    static final float FP8_MAX = 448f;
    /** {@code 1/6} as the reference multiplies by it (a float32 constant). */
    static final float INV_FP4_MAX = (float) (1.0 / 6.0);

    private NvQuant() {
    }

    /** Element values (E2M1, before scaling), block scales (E4M3 values) and dequantized values, grouped. */
    record Grouped(float[] elements, float[] blockScales, float[] dequantized) {
    }

    /** The global scale of a tensor whose largest magnitude is {@code tensorMax}; 0 for an all-zero tensor. */
    static float globalScale(float tensorMax) {
        return FP8_MAX * FP4_MAX * recip(tensorMax);
    }

    static float tensorMax(float[] x) {
        float m = 0f;
        for (float e : x) {
            m = Math.max(m, Math.abs(e));
        }
        return m;
    }

    /**
     * @param v     rounding offsets in grouped layout, or {@code null}
     * @param coeff per-group multiplier of the group maximum (tuned beta times a searched init), or {@code null}
     */
    static Grouped quantize(float[] x, int numGroups, int len, float globalScale, float[] v, float[] coeff) {
        float[] el = new float[x.length];
        float[] bs = new float[numGroups];
        float[] deq = new float[x.length];
        IntStream.range(0, numGroups).parallel().forEach(g -> {
            int off = g * len;
            float m = 0f;
            for (int k = 0; k < len; k++) {
                m = Math.max(m, Math.abs(x[off + k]));
            }
            if (coeff != null) {
                m = m * coeff[g];
            }
            float s = globalScale * (m * INV_FP4_MAX);
            s = Floats.roundToE4m3(clamp(s, -FP8_MAX, FP8_MAX));
            bs[g] = s;
            float out = recip(s * recip(globalScale));
            float back = recip(out);
            for (int k = 0; k < len; k++) {
                int i = off + k;
                float t = x[i] * out;
                if (v != null) {
                    t = t + v[i];
                }
                float q = castToFp4(clamp(t, -FP4_MAX, FP4_MAX));
                el[i] = q;
                deq[i] = q * back;
            }
        });
        return new Grouped(el, bs, deq);
    }

    /** E2M1 rounding: half-steps below 2, unit steps below 4, steps of 2 above, each half to even; saturated. */
    static float castToFp4(float x) {
        float sign = x > 0f ? 1f : (x < 0f ? -1f : 0f);
        float a = Math.abs(x);
        float r;
        if (a < 2f) {
            r = (float) Math.rint(2f * a) / 2f;
        } else if (a < 4f) {
            r = (float) Math.rint(a);
        } else {
            r = 2f * (float) Math.rint(a / 2f);
        }
        return clamp(r, -FP4_MAX, FP4_MAX) * sign;
    }

    /**
     * Optimized RTN (docs/algorithms.md): per group the coefficient among 0.50, 0.51 ... 1.51 (1.00 first, strict
     * improvement) of the group max with the smallest importance-weighted squared error, searched with the global
     * scale of the tensor itself.
     */
    static float[] searchCoefficients(float[] x, int numGroups, int len, float[] weights) {
        float g = globalScale(tensorMax(x));
        float[] best = new float[numGroups];
        IntStream.range(0, numGroups).parallel().forEach(grp -> {
            int off = grp * len;
            float[] one = new float[len];
            System.arraycopy(x, off, one, 0, len);
            double bestLoss = loss(one, g, 1f, weights, off);
            float bestC = 1f;
            for (int k = 50; k < 152; k++) {
                float c = (float) (k / 100.0);
                if (k == 100) {
                    continue;
                }
                double l = loss(one, g, c, weights, off);
                if (l < bestLoss) {
                    bestLoss = l;
                    bestC = c;
                }
            }
            best[grp] = bestC;
        });
        return best;
    }

    private static double loss(float[] group, float g, float c, float[] weights, int off) {
        float[] deq = quantize(group, 1, group.length, g, null, new float[] {c}).dequantized();
        double sum = 0;
        for (int k = 0; k < group.length; k++) {
            float d = deq[k] - group[k];
            float d2 = d * d;
            sum += weights == null ? d2 : d2 * weights[off + k];
        }
        return sum;
    }

    /** 0 for 0, else {@code 1/x}, as the reference's safe reciprocal. */
    static float recip(float x) {
        return x == 0f ? 0f : 1f / x;
    }

    static float clamp(float x, float lo, float hi) {
        return x < lo ? lo : (x > hi ? hi : x);
    }
}
