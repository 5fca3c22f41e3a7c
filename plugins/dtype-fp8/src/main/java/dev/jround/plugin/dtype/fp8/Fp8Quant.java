package dev.jround.plugin.dtype.fp8;

import dev.jround.spi.tensor.Floats;

/**
 * Exact host-side FP8 E4M3 quantization in float32 (docs/algorithms.md): per group
 * {@code s = max(max|x| * beta / 448, 1 / (448 * 512))}, elements {@code e4m3(clamp(x / s + v, ±448))}.
 */
final class Fp8Quant {

    static final float FP8_MAX = 448f;
    /** The smallest scale, {@code 1 / (448 * 512)} as a float32. */
    static final float MIN_SCALE = (float) (1.0 / (448.0 * 512.0));

    private Fp8Quant() {
    }

    record Grouped(float[] elements, float[] scales, float[] dequantized) {
    }

    static Grouped quantize(float[] x, int numGroups, int len, float[] v, float[] beta) {
        float[] el = new float[x.length];
        float[] scales = new float[numGroups];
        float[] deq = new float[x.length];
        for (int g = 0; g < numGroups; g++) {
            int off = g * len;
            float m = 0f;
            for (int k = 0; k < len; k++) {
                m = Math.max(m, Math.abs(x[off + k]));
            }
            if (beta != null) {
                m = m * Math.max(0f, Math.min(1f, beta[g]));
            }
            float s = Math.max(m / FP8_MAX, MIN_SCALE);
            scales[g] = s;
            for (int k = 0; k < len; k++) {
                int i = off + k;
                float t = x[i] / s + (v == null ? 0f : v[i]);
                t = Math.max(-FP8_MAX, Math.min(FP8_MAX, t));
                // the reference's straight-through cast (cast(t) - t) + t, whose value is the cast
                float q = (Floats.roundToE4m3(t) - t) + t;
                el[i] = q;
                deq[i] = q * s;
            }
        }
        return new Grouped(el, scales, deq);
    }
}
