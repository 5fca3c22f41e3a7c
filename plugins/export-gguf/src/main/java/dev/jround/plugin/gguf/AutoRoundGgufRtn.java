package dev.jround.plugin.gguf;

import static dev.jround.plugin.gguf.GgmlQuants.QK_K;
import static dev.jround.plugin.gguf.GgmlQuants.f16;
import static dev.jround.plugin.gguf.GgmlQuants.nearestInt;

/**
 * AutoRound's optimized RTN for GGUF types (docs/algorithms.md): an importance-weighted search of
 * group scales (and mins), followed by the second-level quantization of the scales of each super-block.
 * Without an importance matrix it uses the llama.cpp default weightings. Q4_1/Q5_1 and the float types have
 * no search and use the llama.cpp reference encoders.
 */
public final class AutoRoundGgufRtn {

    private AutoRoundGgufRtn() {
    }

    /**
     * Encodes a row-major {@code [rows, cols]} weight.
     *
     * @param imatrix per-column importance (length {@code cols}) or {@code null}
     */
    public static byte[] quantize(GgmlType t, float[] x, int rows, int cols, float[] imatrix) {
        long rowBytes = t.bytesFor(cols);
        byte[] out = new byte[Math.toIntExact(rowBytes * rows)];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            int p = Math.toIntExact(r * rowBytes);
            switch (t) {
                case Q4_0, Q5_0, Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) symLegacyBlock(t, x, o + 32 * b, out, p + b * t.typeSize(), imatrix, 32 * b);
                }
                case Q2_K, Q4_K, Q5_K -> {
                    for (int b = 0; b < cols / QK_K; b++) asymKBlock(t, x, o + QK_K * b, out, p + b * t.typeSize(), imatrix, QK_K * b);
                }
                case Q3_K, Q6_K -> {
                    for (int b = 0; b < cols / QK_K; b++) symKBlock(t, x, o + QK_K * b, out, p + b * t.typeSize(), imatrix, QK_K * b);
                }
                default -> GgmlQuants.quantizeReference(t, x, o, cols, out, p);
            }
        }
        return out;
    }

    /**
     * Importance weights of one group with the reference's zero handling (docs/algorithms.md): a group with more
     * than half of its entries zero is weighted by the weights' magnitude instead, isolated zeros take the
     * mean of the group's non-zero entries.
     */
    static float[] groupImportance(float[] imatrix, int col0, int n, float[] x, int o, int bits) {
        float[] w = new float[n];
        int zeros = 0;
        float sum = 0;
        for (int i = 0; i < n; i++) {
            w[i] = imatrix[col0 + i];
            if (w[i] <= 1e-30f) {
                zeros++;
            } else {
                sum += w[i];
            }
        }
        if (zeros > n / 2) {
            float sumX2 = 0;
            for (int i = 0; i < n; i++) sumX2 += x[o + i] * x[o + i];
            float av = (float) Math.sqrt(sumX2 / 32);
            for (int i = 0; i < n; i++) w[i] = bits <= 3 ? Math.abs(x[o + i]) : Math.abs(x[o + i]) + av;
        } else if (zeros > 0) {
            float mean = sum / (n - zeros);
            for (int i = 0; i < n; i++) {
                if (w[i] <= 1e-30f) w[i] = mean;
            }
        }
        return w;
    }

    // ---------------------------------------------------------------- Q4_0 / Q5_0 / Q8_0 (docs/algorithms.md)

    private static void symLegacyBlock(GgmlType t, float[] x, int o, byte[] y, int p, float[] imatrix, int col0) {
        int bits = t == GgmlType.Q4_0 ? 4 : t == GgmlType.Q5_0 ? 5 : 8;
        float[] w = imatrix == null ? null : groupImportance(imatrix, col0, 32, x, o, bits);
        int nmax = 1 << (bits - 1);
        float g = 0;
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            if (Math.abs(x[o + i]) > amax) {
                amax = Math.abs(x[o + i]);
                g = x[o + i];
            }
        }
        int[] q = new int[32];
        float s = 0;
        if (g != 0) {
            float is0 = -nmax / g;
            s = 1 / is0;
            float best = symLoss(x, o, w, is0, 1 / is0, nmax);
            float step = 0.0075f * nmax;
            for (int k = -100; k <= 100; k++) {
                if (k == 0) continue;
                float isk = -(nmax - step * k) / g;
                float sk = 1 / isk;
                float loss = symLoss(x, o, w, isk, sk, nmax);
                if (loss < best) {
                    best = loss;
                    s = sk;
                }
            }
            for (int i = 0; i < 32; i++) q[i] = Math.max(-nmax, Math.min(nmax - 1, nearestInt(x[o + i] / s)));
        }
        GgmlQuants.putHalf(y, p, s);
        switch (t) {
            case Q4_0 -> {
                for (int j = 0; j < 16; j++) y[p + 2 + j] = (byte) ((q[j] + 8) | ((q[j + 16] + 8) << 4));
            }
            case Q5_0 -> {
                int qh = 0;
                for (int j = 0; j < 16; j++) {
                    int a = q[j] + 16;
                    int b = q[j + 16] + 16;
                    y[p + 6 + j] = (byte) ((a & 0xF) | ((b & 0xF) << 4));
                    qh |= ((a >>> 4) & 1) << j;
                    qh |= ((b >>> 4) & 1) << (j + 16);
                }
                GgmlQuants.le(y).putInt(p + 2, qh);
            }
            default -> {
                for (int j = 0; j < 32; j++) y[p + 2 + j] = (byte) q[j];
            }
        }
    }

    private static float symLoss(float[] x, int o, float[] w, float is, float s, int nmax) {
        float loss = 0;
        for (int i = 0; i < 32; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(x[o + i] * is)));
            float e = s * l - x[o + i];
            loss += (w == null ? 1f : w[i]) * e * e;
        }
        return loss;
    }

    // ---------------------------------------------------------------- Q2_K / Q4_K / Q5_K (docs/algorithms.md, asymmetric)

    private static void asymKBlock(GgmlType t, float[] x, int o, byte[] y, int p, float[] imatrix, int col0) {
        int bits = t == GgmlType.Q2_K ? 2 : t == GgmlType.Q4_K ? 4 : 5;
        int group = bits == 2 ? 16 : 32;
        int groups = QK_K / group;
        int qmax = (1 << bits) - 1;
        int superMax = bits == 2 ? 15 : 63;
        float[] scales = new float[groups];
        float[] mins = new float[groups];
        float[] groupWeight = new float[groups];
        for (int g = 0; g < groups; g++) {
            int go = o + g * group;
            float[] w;
            float rrmin;
            float rdelta;
            int nstep;
            boolean mad = false;
            if (imatrix != null) {
                w = groupImportance(imatrix, col0 + g * group, group, x, go, bits);
                rrmin = -0.9f;
                rdelta = 0.05f;
                nstep = 36;
            } else if (bits == 2) {
                w = new float[group];
                for (int i = 0; i < group; i++) w[i] = Math.abs(x[go + i]);
                rrmin = -0.5f;
                rdelta = 0.1f;
                nstep = 15;
                mad = true;
            } else {
                w = new float[group];
                float sumX2 = 0;
                for (int i = 0; i < group; i++) sumX2 += x[go + i] * x[go + i];
                float av = (float) Math.sqrt(sumX2 / 32);
                for (int i = 0; i < group; i++) w[i] = Math.abs(x[go + i]) + av;
                rrmin = -1.0f;
                rdelta = 0.1f;
                nstep = 20;
            }
            float sw = 0;
            for (float v : w) sw += v;
            groupWeight[g] = sw;
            float[] sm = searchAsym(x, go, group, w, qmax, rrmin, rdelta, nstep, mad);
            scales[g] = sm[0];
            mins[g] = Math.max(0f, sm[1]);
        }
        float[] dScale = new float[1];
        float[] dMin = new float[1];
        int[] sc = imatrix == null ? superQuantMax(scales, superMax, dScale) : superQuantWeighted(scales, groupWeight, superMax, dScale);
        int[] mn = imatrix == null ? superQuantMax(mins, superMax, dMin) : superQuantWeighted(mins, groupWeight, superMax, dMin);
        int[] L = new int[QK_K];
        if (bits == 2) {
            GgmlQuants.writeQ2KBlock(x, o, y, p, sc, mn, dScale[0], dMin[0], L);
        } else {
            GgmlQuants.writeK4Block(x, o, y, p, bits, sc, mn, dScale[0], dMin[0], L);
        }
    }

    /** The weighted least-squares scale/min search of docs/algorithms.md; returns {scale, wmin}. */
    static float[] searchAsym(float[] x, int o, int n, float[] w, int qmax, float rrmin, float rdelta, int nstep, boolean mad) {
        float rmin = Float.MAX_VALUE;
        float rmax = -Float.MAX_VALUE;
        float sw = 0;
        float sx = 0;
        for (int i = 0; i < n; i++) {
            rmin = Math.min(rmin, x[o + i]);
            rmax = Math.max(rmax, x[o + i]);
            sw += w[i];
            sx += w[i] * x[o + i];
        }
        if (rmax == rmin) {
            // a constant group: represent it exactly as a pure offset or a single step
            return rmin <= 0 ? new float[]{0f, -rmin} : new float[]{rmin / qmax, 0f};
        }
        float s = (rmax - rmin) / qmax;
        float best = asymError(x, o, n, w, s, rmin, qmax, mad);
        int[] L = new int[n];
        for (int i = 0; i < nstep; i++) {
            float f = rrmin + rdelta * i + qmax;
            float sp = (rmax - rmin) / f;
            float inv = 1 / sp;
            float sl = 0;
            float sl2 = 0;
            float sxl = 0;
            for (int k = 0; k < n; k++) {
                int l = Math.max(0, Math.min(qmax, nearestInt((x[o + k] - rmin) * inv)));
                L[k] = l;
                sl += w[k] * l;
                sl2 += w[k] * l * l;
                sxl += w[k] * l * x[o + k];
            }
            float d = sw * sl2 - sl * sl;
            if (!(d > 0)) {
                continue;
            }
            float sStar = (sw * sxl - sx * sl) / d;
            float mStar = (sl2 * sx - sl * sxl) / d;
            if (mStar > 0) {
                mStar = 0;
                sStar = sxl / sl2;
            }
            if (!(sStar > 0)) {
                continue;
            }
            float e = asymError(x, o, n, w, sStar, mStar, qmax, mad);
            if (e < best) {
                best = e;
                s = sStar;
                rmin = mStar;
            }
        }
        return new float[]{s, -rmin};
    }

    private static float asymError(float[] x, int o, int n, float[] w, float s, float m, int qmax, boolean mad) {
        float inv = 1 / s;
        float e = 0;
        for (int k = 0; k < n; k++) {
            int l = Math.max(0, Math.min(qmax, nearestInt((x[o + k] - m) * inv)));
            float diff = s * l + m - x[o + k];
            e += w[k] * (mad ? Math.abs(diff) : diff * diff);
        }
        return e;
    }

    /** Max-based second-level quantization: codes in [0, nmax], {@code d[0]} receives the super-scale. */
    static int[] superQuantMax(float[] vec, int nmax, float[] d) {
        float m = 0;
        for (float v : vec) m = Math.max(m, v);
        d[0] = m / nmax;
        float inv = m > 0 ? nmax / m : 0f;
        int[] codes = new int[vec.length];
        for (int j = 0; j < vec.length; j++) codes[j] = Math.max(0, Math.min(nmax, nearestInt(vec[j] * inv)));
        return codes;
    }

    /** Importance-weighted second-level quantization (docs/algorithms.md, with imatrix). */
    static int[] superQuantWeighted(float[] vec, float[] qw, int nmax, float[] d) {
        float m = 0;
        for (float v : vec) m = Math.max(m, v);
        int[] codes = new int[vec.length];
        if (m <= 0) {
            d[0] = 0;
            return codes;
        }
        float bestD = m / nmax;
        float best = superError(vec, qw, bestD, nmax, false);
        for (int k = -4; k <= 4; k++) {
            if (k == 0) continue;
            float dk = m / (nmax + 0.1f * k);
            float e = superError(vec, qw, dk, nmax, true);
            if (e < best) {
                best = e;
                bestD = dk;
            }
        }
        float num = 0;
        float den = 0;
        for (int j = 0; j < vec.length; j++) {
            codes[j] = Math.max(0, Math.min(nmax, nearestInt(vec[j] / bestD)));
            num += qw[j] * vec[j] * codes[j];
            den += qw[j] * codes[j] * codes[j];
        }
        d[0] = den > 0 ? num / den : m / nmax;
        return codes;
    }

    private static float superError(float[] vec, float[] qw, float d, int nmax, boolean clip) {
        float e = 0;
        for (int j = 0; j < vec.length; j++) {
            int l = nearestInt(vec[j] / d);
            if (clip) l = Math.min(l, nmax);
            float diff = vec[j] - d * l;
            e += qw[j] * diff * diff;
        }
        return e;
    }

    // ---------------------------------------------------------------- Q3_K / Q6_K (docs/algorithms.md, symmetric)

    private static void symKBlock(GgmlType t, float[] x, int o, byte[] y, int p, float[] imatrix, int col0) {
        boolean q3 = t == GgmlType.Q3_K;
        int nmax = q3 ? 4 : 32;
        int superHalf = q3 ? 32 : 128;
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        for (int g = 0; g < 16; g++) {
            int go = o + 16 * g;
            if (imatrix != null) {
                float[] w = groupImportance(imatrix, col0 + 16 * g, 16, x, go, q3 ? 3 : 6);
                scales[g] = GgmlQuants.makeQx(16, nmax, x, go, L, 16 * g, w);
            } else if (q3) {
                scales[g] = GgmlQuants.makeQ3(16, nmax, x, go, L, 16 * g);
            } else {
                scales[g] = GgmlQuants.makeQx(16, nmax, x, go, L, 16 * g, null);
            }
        }
        float gs = 0;
        float amax = 0;
        for (float s : scales) {
            if (Math.abs(s) > amax) {
                amax = Math.abs(s);
                gs = s;
            }
        }
        int[] codes = new int[16];
        float d = 0;
        if (amax >= 1e-15f) {
            d = gs / -superHalf;
            for (int g = 0; g < 16; g++) codes[g] = Math.max(-superHalf, Math.min(superHalf - 1, nearestInt(scales[g] / d)));
        } else if (!q3) {
            for (int k = 0; k < 210; k++) y[p + k] = 0;
            return;
        }
        if (q3) {
            GgmlQuants.packQ3Scales(codes, y, p + 96);
            GgmlQuants.putHalf(y, p + 108, d);
            GgmlQuants.finishQ3K(x, o, y, p, L, codes, f16(d));
        } else {
            GgmlQuants.writeQ6KBlock(x, o, y, p, codes, d, L);
        }
    }
}
