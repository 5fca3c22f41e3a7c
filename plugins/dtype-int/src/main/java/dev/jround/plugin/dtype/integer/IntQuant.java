package dev.jround.plugin.dtype.integer;

import dev.jround.spi.quant.GroupLayout;

import java.util.stream.IntStream;

/**
 * Exact host-side integer quantization in float32, element by element as the reference's tensor code does it
 * (docs/algorithms.md). Works on the grouped layout of {@link GroupLayout}.
 */
final class IntQuant {

    private IntQuant() {
    }

    /** Result in grouped layout: integer levels (signed for sym, 0..qmax for asym), per-group scale and zero. */
    record Grouped(float[] levels, float[] scales, float[] zeros) {
    }

    /**
     * Min/max QDQ with optional tuned parameters (V in grouped layout, alpha/beta per group, clamped to [0, 1]).
     * {@code thr} is the scale floor of the scale dtype.
     */
    static Grouped minMax(float[] x, int numGroups, int groupLen, int bits, boolean sym, ScaleDtype sd,
                          float[] v, float[] alpha, float[] beta) {
        float[] levels = new float[x.length];
        float[] scales = new float[numGroups];
        float[] zeros = new float[numGroups];
        float thr = sd.threshold();
        for (int g = 0; g < numGroups; g++) {
            int off = g * groupLen;
            float wMin = 0f;
            float wMax = 0f;
            for (int k = 0; k < groupLen; k++) {
                float e = x[off + k];
                if (e < wMin) {
                    wMin = e;
                }
                if (e > wMax) {
                    wMax = e;
                }
            }
            float a = alpha == null ? 1f : clamp01(alpha[g]);
            float b = beta == null ? 1f : clamp01(beta[g]);
            if (sym) {
                float nmax = 1 << (bits - 1);
                float neg = -(wMin * a);
                float pos = wMax * b;
                float sign = pos < neg ? 1f : -1f;
                float s = sd.round(sign * Math.max(pos, neg) / nmax);
                s = s < 0 ? Math.min(s, -thr) : Math.max(s, thr);
                scales[g] = s;
                zeros[g] = nmax;
                for (int k = 0; k < groupLen; k++) {
                    // plain RTN has no "+ v" (adding 0 would turn a -0 quotient into +0)
                    float t = v == null ? x[off + k] / s : x[off + k] / s + v[off + k];
                    levels[off + k] = clamp(round(t, v != null), -nmax, nmax - 1);
                }
            } else {
                float qmax = (1 << bits) - 1;
                float lo = wMin * a;
                float hi = wMax * b;
                float s = Math.max(sd.round((hi - lo) / qmax), thr);
                float z = (float) Math.rint(-lo / s);
                scales[g] = s;
                zeros[g] = z;
                for (int k = 0; k < groupLen; k++) {
                    // plain RTN has no "+ v" (adding 0 would turn a -0 quotient into +0)
                    float t = v == null ? x[off + k] / s : x[off + k] / s + v[off + k];
                    levels[off + k] = clamp(round(t, v != null) + z, 0f, qmax);
                }
            }
        }
        return new Grouped(levels, scales, zeros);
    }

    /**
     * Optimized RTN for symmetric int (docs/algorithms.md): per group, the inverse scale {@code -(nmax - step*k)/g} with the
     * smallest importance-weighted squared error wins (strict improvement, candidates in ascending k). The searched
     * scale stays float32 (the reference casts it only when packing); levels are formed with it.
     *
     * @param weights importance weights in grouped layout, or {@code null} for all ones
     */
    static Grouped optimizedSym(float[] x, int numGroups, int groupLen, int bits, float[] weights) {
        float[] levels = new float[x.length];
        float[] scales = new float[numGroups];
        float[] zeros = new float[numGroups];
        int nmaxI = 1 << (bits - 1);
        float nmax = nmaxI;
        int kMax;
        double step;
        if (bits == 2) {
            kMax = 90;
            step = 0.01;
        } else {
            double span = nmaxI * 0.75;
            step = span / 200 * 2;
            kMax = (int) (span / step);
        }
        final double stepF = step;
        final int kMaxF = kMax;
        IntStream.range(0, numGroups).parallel().forEach(g -> {
            int off = g * groupLen;
            int arg = off;
            float best = Math.abs(x[off]);
            for (int k = 1; k < groupLen; k++) {
                float a = Math.abs(x[off + k]);
                if (a > best) {
                    best = a;
                    arg = off + k;
                }
            }
            float r = recip(x[arg]);
            float inv0 = -nmax * r;
            float bestS = recip(inv0);
            double bestLoss = weightedError(x, weights, off, groupLen, inv0, bestS, nmax);
            for (int k = -kMaxF; k <= kMaxF; k++) {
                if (k == 0) {
                    continue;
                }
                float factor = (float) (-(nmaxI - stepF * k));
                float inv = factor * r;
                float s = recip(inv);
                double loss = weightedError(x, weights, off, groupLen, inv, s, nmax);
                if (loss < bestLoss) {
                    bestLoss = loss;
                    bestS = s;
                }
            }
            float thr = 1e-5f;
            float s = bestS < 0 ? Math.min(bestS, -thr) : Math.max(bestS, thr);
            scales[g] = s;
            zeros[g] = nmax;
            for (int k = 0; k < groupLen; k++) {
                levels[off + k] = clamp((float) Math.rint(x[off + k] / s), -nmax, nmax - 1);
            }
        });
        return new Grouped(levels, scales, zeros);
    }

    /** Sum of {@code w * (s * clamp(round(x * inv)) - x)^2} over one group, accumulated in double. */
    private static double weightedError(float[] x, float[] w, int off, int len, float inv, float s, float nmax) {
        double sum = 0;
        for (int k = 0; k < len; k++) {
            float xe = x[off + k];
            float level = clamp((float) Math.rint(inv * xe), -nmax, nmax - 1);
            float e = s * level - xe;
            float e2 = e * e;
            sum += w == null ? e2 : e2 * w[off + k];
        }
        return sum;
    }

    /**
     * Round half to even. The tuning path rounds with a straight-through estimator {@code (round(t) - t) + t}, whose
     * value equals {@code round(t)} except that a zero result is always +0; plain RTN keeps the sign of {@code rint}.
     * Both are reproduced so that fake-quantized weights match the reference bit for bit, signed zeros included.
     */
    static float round(float t, boolean straightThrough) {
        float r = (float) Math.rint(t);
        return straightThrough ? (r - t) + t : r;
    }

    /** Safe reciprocal of the reference: 0 where {@code |x| < 1e-30}. */
    static float recip(float x) {
        return Math.abs(x) >= 1e-30f ? 1f / x : 0f;
    }

    static float clamp01(float x) {
        return x < 0f ? 0f : (x > 1f ? 1f : x);
    }

    static float clamp(float x, float lo, float hi) {
        return x < lo ? lo : (x > hi ? hi : x);
    }
}
