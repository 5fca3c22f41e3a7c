package dev.jround.plugin.gguf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import static dev.jround.plugin.gguf.GgmlQuants.QK_K;
import static dev.jround.plugin.gguf.GgmlQuants.f16;

/**
 * The min/max QDQ of GGUF types used while SignRound tunes them (docs/algorithms.md), in two faces that compute the
 * same numbers: a differentiable one on DJL arrays and a host one that writes the GGUF blocks.
 *
 * <p>Asymmetric k-quants (Q2_K, Q4_K, Q5_K): per sub-block {@code s = max((hi-lo)/qmax, thr)} and {@code wmin = -lo}
 * from the alpha/beta-scaled extremes; both vectors of a super-block go through the max-based second-level
 * quantization; {@code q = clamp(round((x + wmin_q)/s_q + v), 0, qmax)}, {@code x = s_q*q - wmin_q}. Symmetric
 * k-quants (Q3_K, Q6_K): the full-range signed scale per sub-block, the symmetric second level, then
 * {@code x = s_q * clamp(round(x/s_q + v), -nmax, nmax-1)}.
 *
 * <p>Where the reference keeps fp32 super-scales during tuning, this QDQ rounds them to fp16 as the file stores
 * them (and chooses the scale codes against that fp16 value), so the tuned weights are exactly what llama.cpp
 * decodes. For the same reason the legacy fallback types store fp16 scales in the QDQ, and Q4_1/Q5_1 use the
 * file's form {@code x = d*L + m} with {@code m} the fp16 minimum (the reference's unrounded float zero point
 * has no GGUF encoding). A sub-block whose stored scale is zero decodes to its offset alone; the division then
 * uses 1 instead (any non-zero value gives the same result).
 */
final class GgufTunedQdq {

    private GgufTunedQdq() {
    }

    /** Sub-block (group) length of a quantized GGUF type. */
    static int groupOf(GgmlType t) {
        return switch (t) {
            case Q2_K, Q3_K, Q6_K -> 16;
            default -> 32;
        };
    }

    private static int bitsOf(GgmlType t) {
        return switch (t) {
            case Q2_K -> 2;
            case Q3_K -> 3;
            case Q4_0, Q4_1, Q4_K -> 4;
            case Q5_0, Q5_1, Q5_K -> 5;
            case Q6_K -> 6;
            case Q8_0 -> 8;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /** Second-level bits of a k-quant (the reference's super_bits). */
    private static int superBitsOf(GgmlType t) {
        return switch (t) {
            case Q2_K -> 4;
            case Q6_K -> 8;
            default -> 6;
        };
    }

    private static boolean asymK(GgmlType t) {
        return t == GgmlType.Q2_K || t == GgmlType.Q4_K || t == GgmlType.Q5_K;
    }

    private static boolean symK(GgmlType t) {
        return t == GgmlType.Q3_K || t == GgmlType.Q6_K;
    }

    private static boolean floatZp(GgmlType t) {
        return t == GgmlType.Q4_1 || t == GgmlType.Q5_1;
    }

    // ------------------------------------------------------------------------------------------- DJL face

    /**
     * Differentiable QDQ of a {@code [rows, cols]} weight with the type {@code t} (the scheme's type after the row
     * fallback). {@code schemeGroup} is the group length of {@code v}/alpha/beta; when the type's sub-block differs
     * (a 16-wide k-quant falling back to a 32-wide legacy type) V is regrouped and alpha/beta are not used.
     */
    static NDArray qdq(GgmlType t, NDArray weight, int schemeGroup, NDArray v, NDArray alpha, NDArray beta,
                       NDArray wMin, NDArray wMax, float thr) {
        NDArray w32 = weight.toType(DataType.FLOAT32, false);
        if (t.isFloat()) {
            // rows that no quantized type divides stay float: keep every tuned tensor in the graph (zero gradient)
            return half(w32).add(zeroTie(v, alpha, beta)).toType(weight.getDataType(), false);
        }
        Shape shape = weight.getShape();
        long n = shape.size();
        int gl = groupOf(t);
        NDArray x = w32.reshape(n / gl, gl);
        NDArray vv = v.reshape(n / gl, gl);
        NDArray tie = null;
        NDArray lo;
        NDArray hi;
        if (gl == schemeGroup) {
            lo = alpha == null ? wMin : wMin.mul(alpha);
            hi = beta == null ? wMax : wMax.mul(beta);
        } else {
            lo = x.min(new int[]{1}).minimum(c(x, 0f));
            hi = x.max(new int[]{1}).maximum(c(x, 0f));
            tie = zeroTie(null, alpha, beta);
        }
        NDArray out;
        if (asymK(t)) {
            out = asymKQdq(t, x, vv, lo, hi, thr);
        } else if (symK(t)) {
            out = symKQdq(t, x, vv, lo, hi, thr);
        } else if (floatZp(t)) {
            int qmax = (1 << bitsOf(t)) - 1;
            NDArray d = half(hi.sub(lo).div(c(hi, qmax)).maximum(c(hi, thr))).expandDims(1);
            NDArray m = half(lo).expandDims(1);
            NDArray q = clamp(ste(x.sub(m).div(nonZero(d)).add(vv)), 0, qmax);
            out = q.mul(d).add(m);
        } else {
            int nmax = 1 << (bitsOf(t) - 1);
            NDArray d = half(signedScale(lo, hi, nmax, thr)).expandDims(1);
            NDArray q = clamp(ste(x.div(nonZero(d)).add(vv)), -nmax, nmax - 1);
            out = q.mul(d);
        }
        out = out.reshape(shape);
        if (tie != null) {
            out = out.add(tie);
        }
        return out.toType(weight.getDataType(), false);
    }

    private static NDArray asymKQdq(GgmlType t, NDArray x, NDArray v, NDArray lo, NDArray hi, float thr) {
        int qmax = (1 << bitsOf(t)) - 1;
        int superMax = (1 << superBitsOf(t)) - 1;
        int perSuper = QK_K / groupOf(t);
        NDArray s = hi.sub(lo).div(c(hi, qmax)).maximum(c(hi, thr));
        NDArray sq = superMax(s, perSuper, superMax).expandDims(1);
        NDArray mq = superMax(lo.neg(), perSuper, superMax).expandDims(1);
        NDArray q = clamp(ste(x.add(mq).div(nonZero(sq)).add(v)), 0, qmax);
        return q.mul(sq).sub(mq);
    }

    /** Max-based second level of non-negative per-group values: code {@code min(round(vec*qs/M), qs)} times fp16 {@code M/qs}. */
    private static NDArray superMax(NDArray vec, int perSuper, int qs) {
        NDManager m = vec.getManager();
        NDArray bySuper = vec.reshape(-1, perSuper);
        NDArray mx = bySuper.max(new int[]{1}, true).maximum(c(vec, 0f));
        NDArray inv = m.full(mx.getShape(), (float) qs, DataType.FLOAT32).div(mx.maximum(c(vec, 1e-30f)));
        NDArray code = ste(bySuper.mul(inv)).minimum(c(vec, qs));
        NDArray d = half(mx.div(c(vec, qs)));
        return code.mul(d).reshape(-1);
    }

    private static NDArray symKQdq(GgmlType t, NDArray x, NDArray v, NDArray lo, NDArray hi, float thr) {
        int nmax = 1 << (bitsOf(t) - 1);
        int superHalf = 1 << (superBitsOf(t) - 1);
        NDArray s = signedScale(lo, hi, nmax, thr).reshape(-1, 16);
        NDArray mx = s.max(new int[]{1}, true);
        NDArray mn = s.min(new int[]{1}, true);
        NDArray g = NDArrays.where(mx.gte(mn.neg()), mx, mn);
        NDArray d = half(g.div(c(g, -superHalf)));
        NDArray code = clamp(ste(s.div(nonZero(d))), -superHalf, superHalf - 1);
        NDArray sq = code.mul(d).reshape(-1).expandDims(1);
        NDArray q = clamp(ste(x.div(nonZero(sq)).add(v)), -nmax, nmax - 1);
        return q.mul(sq);
    }

    /** The full-range signed scale of docs/algorithms.md: the dominant extreme lands on {@code -nmax}; magnitude floored at thr. */
    private static NDArray signedScale(NDArray lo, NDArray hi, int nmax, float thr) {
        NDArray neg = lo.neg();
        NDArray m = hi.maximum(neg);
        NDArray sign = NDArrays.where(hi.lt(neg), m.onesLike(), m.onesLike().neg());
        NDArray s = m.mul(sign).div(c(m, nmax));
        return NDArrays.where(s.lt(0f), s.minimum(c(s, -thr)), s.maximum(c(s, thr)));
    }

    /**
     * An engine-owned float32 scalar. DJL's {@code Number} overloads ({@code mul}, {@code div}, {@code maximum},
     * {@code clip}, ...) wrap the number in a temporary over a Java direct buffer and close it at once; autograd keeps
     * that tensor for the backward pass, which then reads freed memory once the garbage collector has run (tuned
     * GGUF files differed from run to run). Same value, so the same numbers as the overloads.
     */
    private static NDArray c(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    /**
     * {@code clip(lo, hi)} with torch.clamp's value and gradient (passed where {@code lo <= x <= hi}) that keeps no
     * Java-owned bound for the backward pass (see {@link #c}): the values outside come from a detached clip.
     */
    private static NDArray clamp(NDArray x, float lo, float hi) {
        NDArray clipped = x.stopGradient().clip(lo, hi);
        return NDArrays.where(x.gte(lo).logicalAnd(x.lte(hi)), x, clipped);
    }

    /** Round half to even with a straight-through gradient. */
    private static NDArray ste(NDArray x) {
        // + 0 turns a -0 into +0 as the host's integer codes have it (the sign of a zero product must match)
        return x.add(x.round().sub(x).stopGradient()).add(c(x, 0f));
    }

    /** fp16 rounding, passing the gradient as identity (docs/algorithms.md: casts of scales are identities for autograd). */
    private static NDArray half(NDArray x) {
        NDArray rounded = x.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false);
        return x.add(rounded.sub(x).stopGradient());
    }

    /** {@code d}, with zeros replaced by 1 (a zero stored scale makes the quotient irrelevant). */
    private static NDArray nonZero(NDArray d) {
        return d.add(d.eq(0f).toType(DataType.FLOAT32, false));
    }

    private static NDArray zeroTie(NDArray v, NDArray alpha, NDArray beta) {
        NDArray tie = null;
        for (NDArray a : new NDArray[]{v, alpha, beta}) {
            if (a != null) {
                // -0 is the additive identity for every float (+0 would turn a -0 weight into +0)
                NDArray z = a.sum().mul(c(a, 0f)).abs().neg();
                tie = tie == null ? z : tie.add(z);
            }
        }
        return tie == null ? v.getManager().zeros(new Shape()).neg() : tie;
    }

    // ------------------------------------------------------------------------------------------- host face

    /**
     * Encodes a row-major {@code [rows, cols]} weight with tuned parameters into blocks of {@code t}. {@code v},
     * {@code alpha}, {@code beta} are in the scheme's grouped layout (group length {@code schemeGroup}); any may be
     * null (zeros / ones).
     */
    static byte[] encode(GgmlType t, float[] w, int rows, int cols, int schemeGroup, float[] v, float[] alpha,
                         float[] beta, float thr) {
        if (t.isFloat()) {
            return GgmlQuants.quantizeReference(t, w);
        }
        int gl = groupOf(t);
        int groups = rows * cols / gl;
        boolean useMinMax = gl == schemeGroup;
        float[] lo = new float[groups];
        float[] hi = new float[groups];
        for (int g = 0; g < groups; g++) {
            float mn = 0;
            float mx = 0;
            for (int i = 0; i < gl; i++) {
                mn = Math.min(mn, w[g * gl + i]);
                mx = Math.max(mx, w[g * gl + i]);
            }
            lo[g] = useMinMax && alpha != null ? mn * alpha[g] : mn;
            hi[g] = useMinMax && beta != null ? mx * beta[g] : mx;
        }
        float[] vv = v == null ? new float[rows * cols] : v;
        byte[] out = new byte[Math.toIntExact(t.bytesFor((long) rows * cols))];
        int bs = t.blockSize();
        int ts = t.typeSize();
        int[] L = new int[bs];
        for (int b = 0; b < rows * cols / bs; b++) {
            int o = b * bs;
            int p = b * ts;
            int g0 = o / gl;
            if (asymK(t)) {
                asymKBlock(t, w, vv, o, lo, hi, g0, thr, out, p, L);
            } else if (symK(t)) {
                symKBlock(t, w, vv, o, lo, hi, g0, thr, out, p, L);
            } else {
                legacyBlock(t, w, vv, o, lo[g0], hi[g0], thr, out, p, L);
            }
        }
        return out;
    }

    private static void asymKBlock(GgmlType t, float[] x, float[] v, int o, float[] lo, float[] hi, int g0, float thr,
                                   byte[] y, int p, int[] L) {
        int qmax = (1 << bitsOf(t)) - 1;
        int superMax = (1 << superBitsOf(t)) - 1;
        int gl = groupOf(t);
        int per = QK_K / gl;
        float[] s = new float[per];
        float[] wmin = new float[per];
        for (int j = 0; j < per; j++) {
            s[j] = Math.max((hi[g0 + j] - lo[g0 + j]) / qmax, thr);
            wmin[j] = -lo[g0 + j];
        }
        int[] sc = new int[per];
        int[] mn = new int[per];
        float d = superMaxCodes(s, superMax, sc);
        float dmin = superMaxCodes(wmin, superMax, mn);
        for (int j = 0; j < per; j++) {
            float sq = sc[j] * d;
            float mq = mn[j] * dmin;
            float div = sq == 0 ? 1f : sq;
            for (int i = 0; i < gl; i++) {
                int e = j * gl + i;
                L[e] = (int) clamp((float) Math.rint((x[o + e] + mq) / div + v[o + e]), 0, qmax);
            }
        }
        // x == null: the writers pack the given codes instead of requantizing
        if (t == GgmlType.Q2_K) {
            GgmlQuants.writeQ2KBlock(null, 0, y, p, sc, mn, d, dmin, L);
        } else {
            GgmlQuants.writeK4Block(null, 0, y, p, bitsOf(t), sc, mn, d, dmin, L);
        }
    }

    /** Host twin of {@link #superMax}: fills the codes, returns the fp16 super-scale. */
    private static float superMaxCodes(float[] vec, int qs, int[] codes) {
        float mx = 0;
        for (float a : vec) mx = Math.max(mx, a);
        float inv = qs / Math.max(mx, 1e-30f);
        for (int j = 0; j < vec.length; j++) codes[j] = (int) Math.min((float) Math.rint(vec[j] * inv), qs);
        return f16(mx / qs);
    }

    private static void symKBlock(GgmlType t, float[] x, float[] v, int o, float[] lo, float[] hi, int g0, float thr,
                                  byte[] y, int p, int[] L) {
        int nmax = 1 << (bitsOf(t) - 1);
        int superHalf = 1 << (superBitsOf(t) - 1);
        float[] s = new float[16];
        float mx = -Float.MAX_VALUE;
        float mn = Float.MAX_VALUE;
        for (int j = 0; j < 16; j++) {
            s[j] = signedScale(lo[g0 + j], hi[g0 + j], nmax, thr);
            mx = Math.max(mx, s[j]);
            mn = Math.min(mn, s[j]);
        }
        float g = mx >= -mn ? mx : mn;
        float d = f16(g / -superHalf);
        float dDiv = d == 0 ? 1f : d;
        int[] codes = new int[16];
        for (int j = 0; j < 16; j++) {
            codes[j] = (int) clamp((float) Math.rint(s[j] / dDiv), -superHalf, superHalf - 1);
            float sq = codes[j] * d;
            float div = sq == 0 ? 1f : sq;
            for (int i = 0; i < 16; i++) {
                int e = 16 * j + i;
                L[e] = (int) clamp((float) Math.rint(x[o + e] / div + v[o + e]), -nmax, nmax - 1) + nmax;
            }
        }
        if (t == GgmlType.Q3_K) {
            GgmlQuants.packQ3Scales(codes, y, p + 96);
            GgmlQuants.putHalf(y, p + 108, d);
            GgmlQuants.finishQ3K(null, 0, y, p, L, codes, d);
        } else {
            GgmlQuants.writeQ6KBlock(null, 0, y, p, codes, d, L);
        }
    }

    private static float signedScale(float lo, float hi, int nmax, float thr) {
        float neg = -lo;
        float m = Math.max(hi, neg);
        float s = (hi < neg ? m : -m) / nmax;
        return s < 0 ? Math.min(s, -thr) : Math.max(s, thr);
    }

    private static void legacyBlock(GgmlType t, float[] x, float[] v, int o, float lo, float hi, float thr, byte[] y,
                                    int p, int[] L) {
        int bits = bitsOf(t);
        float d;
        float m = 0;
        int offset;
        int lmin;
        int lmax;
        if (floatZp(t)) {
            lmin = 0;
            lmax = (1 << bits) - 1;
            d = f16(Math.max((hi - lo) / lmax, thr));
            m = f16(lo);
            offset = 0;
        } else {
            int nmax = 1 << (bits - 1);
            lmin = -nmax;
            lmax = nmax - 1;
            d = f16(signedScale(lo, hi, nmax, thr));
            offset = t == GgmlType.Q8_0 ? 0 : nmax;
        }
        float div = d == 0 ? 1f : d;
        for (int i = 0; i < 32; i++) {
            L[i] = (int) clamp((float) Math.rint((x[o + i] - m) / div + v[o + i]), lmin, lmax) + offset;
        }
        GgmlQuants.putHalf(y, p, d);
        switch (t) {
            case Q8_0 -> {
                for (int j = 0; j < 32; j++) y[p + 2 + j] = (byte) L[j];
            }
            case Q4_0 -> nibbles(L, y, p + 2);
            case Q4_1 -> {
                GgmlQuants.putHalf(y, p + 2, m);
                nibbles(L, y, p + 4);
            }
            case Q5_0 -> fiveBit(L, y, p + 2, p + 6);
            case Q5_1 -> {
                GgmlQuants.putHalf(y, p + 2, m);
                fiveBit(L, y, p + 4, p + 8);
            }
            default -> throw new IllegalArgumentException(t.toString());
        }
    }

    private static void nibbles(int[] L, byte[] y, int q) {
        for (int j = 0; j < 16; j++) y[q + j] = (byte) ((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4));
    }

    private static void fiveBit(int[] L, byte[] y, int qhPos, int qsPos) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            y[qsPos + j] = (byte) ((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4));
            qh |= ((L[j] >>> 4) & 1) << j;
            qh |= ((L[j + 16] >>> 4) & 1) << (j + 16);
        }
        GgmlQuants.le(y).putInt(qhPos, qh);
    }

    private static float clamp(float a, float lo, float hi) {
        return Math.max(lo, Math.min(hi, a));
    }
}
