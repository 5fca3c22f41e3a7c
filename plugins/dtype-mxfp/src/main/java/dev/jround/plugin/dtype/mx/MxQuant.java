package dev.jround.plugin.dtype.mx;

import java.util.stream.IntStream;

import static dev.jround.plugin.dtype.mx.MxMath.clamp;
import static dev.jround.plugin.dtype.mx.MxMath.floorSte;
import static dev.jround.plugin.dtype.mx.MxMath.log2;
import static dev.jround.plugin.dtype.mx.MxMath.pow2;
import static dev.jround.plugin.dtype.mx.MxMath.sign;

/**
 * Exact host-side MX quantization in float32 over the grouped layout (docs/algorithms.md): per group a shared
 * power-of-two scale from the group maximum (standard: {@code floor(log2 max) - emax}; RCEIL:
 * {@code ceil(log2(max / maxNorm))}), then each element rounded to the element format.
 */
final class MxQuant {

    /** Scale exponents stored in E8M0 range. */
    static final float SCALE_EMAX = 127f;

    private MxQuant() {
    }

    /** Per group: the element values (before the scale), the shared exponent, the dequantized values. */
    record Grouped(float[] elements, float[] exponents, float[] dequantized) {
    }

    /** How the shared exponent and the rounding offset are applied. */
    enum Mode {
        /** The tuning QDQ (and plain RTN): straight-through floor, {@code + v} always added. */
        TUNING,
        /** The optimized-RTN final pass and its search: plain floor, no offset. */
        OPTIMIZED
    }

    /**
     * @param v        rounding offsets in grouped layout or {@code null}
     * @param beta     per-group max scale in [0, 1] or {@code null}
     * @param coeff    per-group max multiplier from the optimized-RTN search, or {@code null}
     */
    static Grouped quantize(float[] x, int numGroups, int len, MxFormat f, boolean rceil, float[] v, float[] beta,
                            float[] coeff, Mode mode) {
        float[] el = new float[x.length];
        float[] exps = new float[numGroups];
        float[] deq = new float[x.length];
        IntStream.range(0, numGroups).parallel().forEach(g -> {
            int off = g * len;
            float m = groupMax(x, off, len);
            if (beta != null) {
                m = m * clamp(beta[g], 0f, 1f);
            }
            if (coeff != null) {
                m = m * coeff[g];
            }
            float e = sharedExponent(m, f, rceil, mode == Mode.TUNING);
            exps[g] = e;
            float s = pow2(e);
            for (int k = 0; k < len; k++) {
                int i = off + k;
                float t = x[i] / s;
                if (mode == Mode.TUNING) {
                    t = t + (v == null ? 0f : v[i]);
                }
                float q = elementRound(clamp(t, -f.maxNorm, f.maxNorm), f);
                el[i] = q;
                deq[i] = q * s;
            }
        });
        return new Grouped(el, exps, deq);
    }

    static float groupMax(float[] x, int off, int len) {
        float m = 0f;
        for (int k = 0; k < len; k++) {
            m = Math.max(m, Math.abs(x[off + k]));
        }
        return m;
    }

    /** The shared scale exponent, clamped to [-127, 127]. */
    static float sharedExponent(float m, MxFormat f, boolean rceil, boolean straightThrough) {
        if (rceil) {
            float e = m == 0f ? 1f : MxMath.ceilSte(log2(m / f.maxNorm));
            return clamp(e, -SCALE_EMAX, SCALE_EMAX);
        }
        float l = m == 0f ? 1f : log2(m);
        float e = straightThrough ? floorSte(l) : (float) Math.floor(l);
        return clamp(e - f.emax, -SCALE_EMAX, SCALE_EMAX);
    }

    /**
     * One element to the element format: a private exponent (fp formats), the mantissa rounded half to even with
     * the reference's {@code floor(|y| + 0.5) - [(|y| - 0.5) mod 2 == 0]}, the scaling undone, saturated.
     */
    static float elementRound(float t, MxFormat f) {
        float p = 0f;
        float y;
        if (f.ebits > 0) {
            float a = Math.abs(t) + (t == 0f ? 1f : 0f);
            p = Math.max(floorSte(log2(a)), f.minExp);
            y = t / pow2(p) * f.mantissaScale;
        } else {
            y = t * f.mantissaScale;
        }
        float ay = Math.abs(y);
        float mask = (ay - 0.5f) % 2f == 0f ? 1f : 0f;
        float r = sign(y) * (floorSte(ay + 0.5f) - mask);
        r = f.ebits > 0 ? r / f.mantissaScale * pow2(p) : r / f.mantissaScale;
        return clamp(r, -f.maxNorm, f.maxNorm);
    }

    /**
     * Optimized RTN (docs/algorithms.md): per group the max multiplier among 1.0, 0.5, 2.0 (in that order, strict
     * improvement) with the smallest importance-weighted squared error.
     *
     * @param weights importance in grouped layout, or {@code null} for all ones
     */
    static float[] searchCoefficients(float[] x, int numGroups, int len, MxFormat f, float[] weights) {
        float[] best = new float[numGroups];
        float[] candidates = {1.0f, 0.5f, 2.0f};
        IntStream.range(0, numGroups).parallel().forEach(g -> {
            int off = g * len;
            float m0 = groupMax(x, off, len);
            double bestLoss = Double.POSITIVE_INFINITY;
            float bestC = 1f;
            for (float c : candidates) {
                float s = pow2(sharedExponent(m0 * c, f, false, false));
                double loss = 0;
                for (int k = 0; k < len; k++) {
                    int i = off + k;
                    float q = elementRound(clamp(x[i] / s, -f.maxNorm, f.maxNorm), f) * s;
                    float d = q - x[i];
                    float d2 = d * d;
                    loss += weights == null ? d2 : d2 * weights[i];
                }
                if (loss < bestLoss) {
                    bestLoss = loss;
                    bestC = c;
                }
            }
            best[g] = bestC;
        });
        return best;
    }
}
