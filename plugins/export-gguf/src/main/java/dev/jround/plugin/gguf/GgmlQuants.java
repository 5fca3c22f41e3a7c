package dev.jround.plugin.gguf;

import dev.jround.spi.tensor.Floats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Block codecs of the ggml types: dequantization exactly as llama.cpp evaluates it (same float operation
 * order), and llama.cpp's reference round-to-nearest encoders ({@code quantize_row_*_ref}). Rows are split
 * into consecutive blocks; every method works on a run of whole blocks.
 */
public final class GgmlQuants {

    static final int QK_K = 256;
    private static final float GROUP_MAX_EPS = 1e-15f;

    private GgmlQuants() {
    }

    // ------------------------------------------------------------------ dequantization

    /** Decodes {@code n} elements of type {@code t} starting at byte {@code pos} of {@code src} into {@code dst[dstOff..]}. */
    public static void dequantize(GgmlType t, ByteBuffer src, long pos, float[] dst, int dstOff, int n) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = Math.toIntExact(pos);
        int nb = n / t.blockSize();
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = b.getFloat(p + 4 * i); }
            case F16 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = Floats.f16ToF32(b.getShort(p + 2 * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = Floats.bf16ToF32(b.getShort(p + 2 * i)); }
            case Q4_0 -> { for (int i = 0; i < nb; i++) deqQ4_0(b, p + 18 * i, dst, dstOff + 32 * i); }
            case Q4_1 -> { for (int i = 0; i < nb; i++) deqQ4_1(b, p + 20 * i, dst, dstOff + 32 * i); }
            case Q5_0 -> { for (int i = 0; i < nb; i++) deqQ5_0(b, p + 22 * i, dst, dstOff + 32 * i); }
            case Q5_1 -> { for (int i = 0; i < nb; i++) deqQ5_1(b, p + 24 * i, dst, dstOff + 32 * i); }
            case Q8_0 -> { for (int i = 0; i < nb; i++) deqQ8_0(b, p + 34 * i, dst, dstOff + 32 * i); }
            case Q2_K -> { for (int i = 0; i < nb; i++) deqQ2_K(b, p + 84 * i, dst, dstOff + QK_K * i); }
            case Q3_K -> { for (int i = 0; i < nb; i++) deqQ3_K(b, p + 110 * i, dst, dstOff + QK_K * i); }
            case Q4_K -> { for (int i = 0; i < nb; i++) deqQ45_K(b, p + 144 * i, dst, dstOff + QK_K * i, false); }
            case Q5_K -> { for (int i = 0; i < nb; i++) deqQ45_K(b, p + 176 * i, dst, dstOff + QK_K * i, true); }
            case Q6_K -> { for (int i = 0; i < nb; i++) deqQ6_K(b, p + 210 * i, dst, dstOff + QK_K * i); }
        }
    }

    /** Convenience: decodes a whole byte array. */
    public static float[] dequantize(GgmlType t, byte[] data, int n) {
        float[] out = new float[n];
        dequantize(t, ByteBuffer.wrap(data), 0, out, 0, n);
        return out;
    }

    private static float half(ByteBuffer b, int p) {
        return Floats.f16ToF32(b.getShort(p));
    }

    private static int u8(ByteBuffer b, int p) {
        return b.get(p) & 0xFF;
    }

    private static void deqQ4_0(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 2 + j);
            y[o + j] = ((q & 0xF) - 8) * d;
            y[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    private static void deqQ4_1(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p);
        float m = half(b, p + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 4 + j);
            y[o + j] = (q & 0xF) * d + m;
            y[o + j + 16] = (q >>> 4) * d + m;
        }
    }

    private static void deqQ5_0(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p);
        int qh = b.getInt(p + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 6 + j);
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            y[o + j] = (((q & 0xF) | h0) - 16) * d;
            y[o + j + 16] = (((q >>> 4) | h1) - 16) * d;
        }
    }

    private static void deqQ5_1(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p);
        float m = half(b, p + 2);
        int qh = b.getInt(p + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 8 + j);
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            y[o + j] = ((q & 0xF) | h0) * d + m;
            y[o + j + 16] = ((q >>> 4) | h1) * d + m;
        }
    }

    private static void deqQ8_0(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p);
        for (int j = 0; j < 32; j++) {
            y[o + j] = b.get(p + 2 + j) * d;
        }
    }

    private static void deqQ2_K(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p + 80);
        float min = half(b, p + 82);
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int qBase = p + 16 + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half16 = 0; half16 < 2; half16++) {
                    int sc = u8(b, p + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        int q = (u8(b, qBase + 16 * half16 + l) >>> shift) & 3;
                        y[o++] = dl * q - ml;
                    }
                }
            }
        }
    }

    /** The 16 signed six-bit Q3_K sub-block scales, unpacked. */
    static int[] q3kScales(ByteBuffer b, int p) {
        int[] s = new int[16];
        for (int j = 0; j < 16; j++) {
            int low = j < 8 ? u8(b, p + j) & 0xF : u8(b, p + j - 8) >>> 4;
            int high = (u8(b, p + 8 + j % 4) >>> (2 * (j / 4))) & 3;
            s[j] = (low | (high << 4)) - 32;
        }
        return s;
    }

    private static void deqQ3_K(ByteBuffer b, int p, float[] y, int o) {
        float dAll = half(b, p + 108);
        int[] scales = q3kScales(b, p + 96);
        int is = 0;
        int m = 1;
        for (int n = 0; n < QK_K; n += 128) {
            int qBase = p + 32 + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half16 = 0; half16 < 2; half16++) {
                    float dl = dAll * scales[is++];
                    for (int l = 0; l < 16; l++) {
                        int idx = 16 * half16 + l;
                        int q = (u8(b, qBase + idx) >>> shift) & 3;
                        int hm = (u8(b, p + idx) & m) != 0 ? 0 : 4;
                        y[o++] = dl * (q - hm);
                    }
                }
                m <<= 1;
            }
        }
    }

    /** Scale code and min code of sub-block {@code j} from the 12-byte Q4_K/Q5_K packing at {@code p}. */
    static int scaleK4(ByteBuffer b, int p, int j) {
        return j < 4 ? u8(b, p + j) & 63 : (u8(b, p + j + 4) & 0xF) | ((u8(b, p + j - 4) >>> 6) << 4);
    }

    static int minK4(ByteBuffer b, int p, int j) {
        return j < 4 ? u8(b, p + j + 4) & 63 : (u8(b, p + j + 4) >>> 4) | ((u8(b, p + j) >>> 6) << 4);
    }

    /** Q4_K and Q5_K share scales and layout; Q5_K adds a plane of fifth bits (16 bytes at 16) before its nibbles. */
    private static void deqQ45_K(ByteBuffer b, int p, float[] y, int o, boolean fiveBit) {
        float d = half(b, p);
        float min = half(b, p + 2);
        int nibbles = p + (fiveBit ? 48 : 16);
        int is = 0;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            int q = nibbles + j / 2;
            float d1 = d * scaleK4(b, p + 4, is);
            float m1 = min * minK4(b, p + 4, is);
            float d2 = d * scaleK4(b, p + 4, is + 1);
            float m2 = min * minK4(b, p + 4, is + 1);
            for (int l = 0; l < 32; l++) {
                int h = fiveBit && (u8(b, p + 16 + l) & u1) != 0 ? 16 : 0;
                y[o + j + l] = d1 * ((u8(b, q + l) & 0xF) + h) - m1;
            }
            for (int l = 0; l < 32; l++) {
                int h = fiveBit && (u8(b, p + 16 + l) & u2) != 0 ? 16 : 0;
                y[o + j + 32 + l] = d2 * ((u8(b, q + l) >>> 4) + h) - m2;
            }
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    private static void deqQ6_K(ByteBuffer b, int p, float[] y, int o) {
        float d = half(b, p + 208);
        for (int n = 0; n < QK_K; n += 128) {
            int ql = p + n / 2;
            int qh = p + 128 + n / 4;
            int sc = p + 192 + n / 16;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(b, qh + l);
                int q1 = ((u8(b, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(b, ql + l + 32) & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((u8(b, ql + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((u8(b, ql + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[o + n + l] = d * b.get(sc + is) * q1;
                y[o + n + l + 32] = d * b.get(sc + is + 2) * q2;
                y[o + n + l + 64] = d * b.get(sc + is + 4) * q3;
                y[o + n + l + 96] = d * b.get(sc + is + 6) * q4;
            }
        }
    }

    // ------------------------------------------------------------------ llama.cpp reference encoders

    /** Encodes {@code n} elements of {@code x[off..]} with llama.cpp's reference encoder into {@code dst[dstOff..]}. */
    public static void quantizeReference(GgmlType t, float[] x, int off, int n, byte[] dst, int dstOff) {
        int nb = n / t.blockSize();
        switch (t) {
            case F32 -> { ByteBuffer b = le(dst); for (int i = 0; i < n; i++) b.putFloat(dstOff + 4 * i, x[off + i]); }
            case F16 -> { ByteBuffer b = le(dst); for (int i = 0; i < n; i++) b.putShort(dstOff + 2 * i, Floats.f32ToF16(x[off + i])); }
            case BF16 -> { ByteBuffer b = le(dst); for (int i = 0; i < n; i++) b.putShort(dstOff + 2 * i, Floats.f32ToBf16(x[off + i])); }
            case Q4_0 -> { for (int i = 0; i < nb; i++) refQ4_0(x, off + 32 * i, dst, dstOff + 18 * i); }
            case Q4_1 -> { for (int i = 0; i < nb; i++) refQx_1(x, off + 32 * i, dst, dstOff + 20 * i, 4); }
            case Q5_0 -> { for (int i = 0; i < nb; i++) refQ5_0(x, off + 32 * i, dst, dstOff + 22 * i); }
            case Q5_1 -> { for (int i = 0; i < nb; i++) refQx_1(x, off + 32 * i, dst, dstOff + 24 * i, 5); }
            case Q8_0 -> { for (int i = 0; i < nb; i++) refQ8_0(x, off + 32 * i, dst, dstOff + 34 * i); }
            case Q2_K -> { for (int i = 0; i < nb; i++) refQ2_K(x, off + QK_K * i, dst, dstOff + 84 * i); }
            case Q3_K -> { for (int i = 0; i < nb; i++) refQ3_K(x, off + QK_K * i, dst, dstOff + 110 * i); }
            case Q4_K -> { for (int i = 0; i < nb; i++) refQ45_K(x, off + QK_K * i, dst, dstOff + 144 * i, 4); }
            case Q5_K -> { for (int i = 0; i < nb; i++) refQ45_K(x, off + QK_K * i, dst, dstOff + 176 * i, 5); }
            case Q6_K -> { for (int i = 0; i < nb; i++) refQ6_K(x, off + QK_K * i, dst, dstOff + 210 * i); }
        }
    }

    public static byte[] quantizeReference(GgmlType t, float[] x) {
        byte[] out = new byte[Math.toIntExact(t.bytesFor(x.length))];
        quantizeReference(t, x, 0, x.length, out, 0);
        return out;
    }

    static ByteBuffer le(byte[] a) {
        return ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void putHalf(byte[] dst, int p, float v) {
        short h = Floats.f32ToF16(v);
        dst[p] = (byte) h;
        dst[p + 1] = (byte) (h >>> 8);
    }

    static float f16(float v) {
        return Floats.roundToF16(v);
    }

    /** llama.cpp's {@code nearest_int}: round half to even (valid for |v| below 2^22). */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /** C conversion {@code (int8_t)(v)} of a float known to be in int range: truncation toward zero, then wrap to 8 bits. */
    private static int truncToInt8(float v) {
        return (byte) (int) v;
    }

    private static void refQ4_0(float[] x, int o, byte[] y, int p) {
        float max = largestMagnitude(x, o, 32);
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putHalf(y, p, d);
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(15, truncToInt8(x[o + j] * id + 8.5f));
            int xi1 = Math.min(15, truncToInt8(x[o + 16 + j] * id + 8.5f));
            y[p + 2 + j] = (byte) ((xi0 & 0xFF) | (xi1 << 4));
        }
    }

    private static void refQx_1(float[] x, int o, byte[] y, int p, int bits) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / ((1 << bits) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        putHalf(y, p, d);
        putHalf(y, p + 2, min);
        if (bits == 4) {
            for (int j = 0; j < 16; j++) {
                int xi0 = Math.min(15, truncToInt8((x[o + j] - min) * id + 0.5f));
                int xi1 = Math.min(15, truncToInt8((x[o + 16 + j] - min) * id + 0.5f));
                y[p + 4 + j] = (byte) (xi0 | (xi1 << 4));
            }
        } else {
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int xi0 = ((int) ((x[o + j] - min) * id + 0.5f)) & 0xFF;
                int xi1 = ((int) ((x[o + 16 + j] - min) * id + 0.5f)) & 0xFF;
                y[p + 8 + j] = (byte) ((xi0 & 0xF) | ((xi1 & 0xF) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
            }
            le(y).putInt(p + 4, qh);
        }
    }

    private static void refQ5_0(float[] x, int o, byte[] y, int p) {
        float max = largestMagnitude(x, o, 32);
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putHalf(y, p, d);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(31, truncToInt8(x[o + j] * id + 16.5f));
            int xi1 = Math.min(31, truncToInt8(x[o + 16 + j] * id + 16.5f));
            y[p + 6 + j] = (byte) ((xi0 & 0xF) | ((xi1 & 0xF) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        le(y).putInt(p + 2, qh);
    }

    private static void refQ8_0(float[] x, int o, byte[] y, int p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putHalf(y, p, d);
        for (int j = 0; j < 32; j++) {
            y[p + 2 + j] = (byte) roundAway(x[o + j] * id);
        }
    }

    /** C {@code roundf}: half away from zero. */
    static int roundAway(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }

    /** The element of {@code v[o..o+n)} with the largest magnitude, sign kept (the first on ties; 0 if all are 0). */
    private static float largestMagnitude(float[] v, int o, int n) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float a = Math.abs(v[o + i]);
            if (a > amax) {
                amax = a;
                max = v[o + i];
            }
        }
        return max;
    }

    /**
     * llama.cpp's {@code make_qkx2_quants}: asymmetric scale and min of one sub-block by weighted least squares
     * over a small range of candidate scales. Returns the scale; {@code theMin[0]} receives the (positive) min.
     */
    static float makeQkx2(int n, int nmax, float[] x, int o, float[] weights, int[] L, int lo, float[] theMin,
                          float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[o];
        float max = x[o];
        float sumW = weights[0];
        float sumX = sumW * x[o];
        for (int i = 1; i < n; i++) {
            if (x[o + i] < min) min = x[o + i];
            if (x[o + i] > max) max = x[o + i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[o + i];
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[o + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
        }
        float bestError = weightedError(n, x, o, weights, L, lo, scale, min, useMad);
        int[] aux = new int[n];
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXl = 0;
            for (int i = 0; i < n; i++) {
                int l = nearestInt(iscale * (x[o + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                aux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[o + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = weightedError(n, x, o, weights, aux, 0, thisScale, thisMin, useMad);
                if (curError < bestError) {
                    System.arraycopy(aux, 0, L, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /** Weighted absolute (MAD) or squared error of reconstructing {@code x[o..o+n)} as {@code scale * code + min}. */
    private static float weightedError(int n, float[] x, int o, float[] weights, int[] codes, int co, float scale,
                                       float min, boolean useMad) {
        float error = 0;
        for (int i = 0; i < n; i++) {
            float diff = scale * codes[co + i] + min - x[o + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            error += weights[i] * diff;
        }
        return error;
    }

    private static void refQ2_K(float[] x, int o, byte[] y, int p) {
        int[] L = new int[QK_K];
        float[] weights = new float[16];
        float[] mins = new float[16];
        float[] scales = new float[16];
        float[] m = new float[1];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = Math.abs(x[o + 16 * j + l]);
            scales[j] = makeQkx2(16, 3, x, o + 16 * j, weights, L, 16 * j, m, -0.5f, 0.1f, 15, true);
            mins[j] = m[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        int[] sc = new int[16];
        int[] mn = new int[16];
        float d = 0;
        float dmin = 0;
        if (maxScale > 0) {
            float iscale = 15f / maxScale;
            for (int j = 0; j < 16; j++) sc[j] = nearestInt(iscale * scales[j]);
            d = maxScale / 15f;
        }
        if (maxMin > 0) {
            float iscale = 15f / maxMin;
            for (int j = 0; j < 16; j++) mn[j] = nearestInt(iscale * mins[j]);
            dmin = maxMin / 15f;
        }
        for (int j = 0; j < 16; j++) {
            // llama.cpp ORs the raw codes into one byte; take both nibbles back from that byte as it does
            int packed = (sc[j] | (mn[j] << 4)) & 0xFF;
            sc[j] = packed & 0xF;
            mn[j] = packed >>> 4;
        }
        writeQ2KBlock(x, o, y, p, sc, mn, d, dmin, L);
    }

    /** Q2_K/Q3_K low-bit plane: four 2-bit codes per byte from elements l, l+32, l+64, l+96 of each 128-half. */
    static void packTwoBit(int[] L, byte[] y, int q) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; l++) {
                y[q + j / 4 + l] = (byte) ((L[j + l] & 3) | ((L[j + l + 32] & 3) << 2) | ((L[j + l + 64] & 3) << 4)
                        | ((L[j + l + 96] & 3) << 6));
            }
        }
    }

    /** {@code v} rounded to nearest (ties to even) and clamped to the signed code range [-nmax, nmax - 1]. */
    private static int symmetricCode(float v, int nmax) {
        return Math.max(-nmax, Math.min(nmax - 1, nearestInt(v)));
    }

    /**
     * The largest-magnitude element of {@code x[o..o+n)}, sign kept; 0 when the group is numerically zero
     * (below llama.cpp's GROUP_MAX_EPS), in which case its codes {@code L[lo..lo+n)} are set to 0.
     */
    private static float groupMaxOrZeroCodes(int n, float[] x, int o, int[] L, int lo) {
        float max = largestMagnitude(x, o, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        return max;
    }

    /** llama.cpp's {@code make_q3_quants} with RMSE refinement; {@code L} receives codes offset by {@code nmax}. */
    static float makeQ3(int n, int nmax, float[] x, int o, int[] L, int lo) {
        float max = groupMaxOrZeroCodes(n, x, o, L, lo);
        if (max == 0) return 0f;
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = symmetricCode(iscale * x[o + i], nmax);
            L[lo + i] = l;
            float w = x[o + i] * x[o + i];
            sumlx += w * x[o + i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[o + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * L[lo + i];
                if (slx > 0) {
                    float sl2 = suml2 - w * L[lo + i] * L[lo + i];
                    int newL = nearestInt(xi * sl2 / slx);
                    newL = Math.max(-nmax, Math.min(nmax - 1, newL));
                    if (newL != L[lo + i]) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[lo + i] = newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) L[lo + i] += nmax;
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    private static void refQ3_K(float[] x, int o, byte[] y, int p) {
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        for (int j = 0; j < 16; j++) {
            scales[j] = makeQ3(16, 4, x, o + 16 * j, L, 16 * j);
        }
        float maxScale = largestMagnitude(scales, 0, 16);
        int[] codes = new int[16];
        float d = 0;
        if (maxScale != 0) {
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = (byte) nearestInt(iscale * scales[j]);
                codes[j] = Math.max(-32, Math.min(31, l));
            }
            d = 1 / iscale;
        }
        if (maxScale != 0) {
            packQ3Scales(codes, y, p + 96);
        } else {
            // llama.cpp leaves the scale bytes zero for an all-zero super-block
            for (int k = 0; k < 12; k++) y[p + 96 + k] = 0;
        }
        putHalf(y, p + 108, d);
        finishQ3K(x, o, y, p, L, codes, f16(d));
    }

    /** Packs sixteen signed 6-bit Q3_K scales (each in [-32, 31]) into 12 bytes. */
    static void packQ3Scales(int[] codes, byte[] y, int p) {
        for (int k = 0; k < 12; k++) y[p + k] = 0;
        for (int j = 0; j < 16; j++) {
            int u = codes[j] + 32;
            if (j < 8) {
                y[p + j] = (byte) (u & 0xF);
            } else {
                y[p + j - 8] |= (byte) ((u & 0xF) << 4);
            }
            y[p + 8 + j % 4] |= (byte) ((u >>> 4) << (2 * (j / 4)));
        }
    }

    /** Requantizes every sub-block with the stored scale (where nonzero) and writes the hmask and low-bit planes. */
    static void finishQ3K(float[] x, int o, byte[] y, int p, int[] L, int[] codes, float dh) {
        requantizeSymmetric(x, o, L, codes, dh, 4);
        for (int k = 0; k < 32; k++) y[p + k] = 0;
        int[] low = new int[QK_K];
        for (int e = 0; e < QK_K; e++) {
            int v = L[e];
            if (v > 3) {
                y[p + e % 32] |= (byte) (1 << (e / 32));
                v -= 4;
            }
            low[e] = v;
        }
        packTwoBit(low, y, p + 32);
    }

    private static void refQ45_K(float[] x, int o, byte[] y, int p, int bits) {
        int[] L = new int[QK_K];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] m = new float[1];
        int nmax = (1 << bits) - 1;
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[o + 32 * j + l]);
            scales[j] = bits == 4
                    ? makeQkx2(32, nmax, x, o + 32 * j, weights, L, 32 * j, m, -1f, 0.1f, 20, false)
                    : makeQkx2(32, nmax, x, o + 32 * j, weights, L, 32 * j, m, -0.5f, 0.1f, 15, false);
            mins[j] = m[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            mn[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
        }
        float d = maxScale / 63f;
        float dmin = maxMin / 63f;
        writeK4Block(x, o, y, p, bits, sc, mn, d, dmin, L);
    }

    /** Packs eight 6-bit scale codes and eight 6-bit min codes into the 12-byte Q4_K/Q5_K layout. */
    static void packK4Scales(int[] sc, int[] mn, byte[] y, int p) {
        for (int k = 0; k < 12; k++) y[p + k] = 0;
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                y[p + j] = (byte) sc[j];
                y[p + j + 4] = (byte) mn[j];
            } else {
                y[p + j + 4] = (byte) ((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
                y[p + j - 4] |= (byte) ((sc[j] >>> 4) << 6);
                y[p + j] |= (byte) ((mn[j] >>> 4) << 6);
            }
        }
    }

    /**
     * Writes a Q4_K/Q5_K super-block from its scale/min codes and fp32 super-scales: stores fp16 d/dmin,
     * requantizes each sub-block with the stored values (sub-blocks with a zero scale keep {@code L}; with
     * {@code x == null} every sub-block keeps {@code L}, codes chosen by the caller).
     */
    static void writeK4Block(float[] x, int o, byte[] y, int p, int bits, int[] sc, int[] mn, float d, float dmin, int[] L) {
        int nmax = (1 << bits) - 1;
        putHalf(y, p, d);
        putHalf(y, p + 2, dmin);
        packK4Scales(sc, mn, y, p + 4);
        requantizeAsymmetric(x, o, L, 8, 32, sc, mn, f16(d), f16(dmin), nmax);
        if (bits == 4) {
            for (int j = 0; j < QK_K; j += 64) {
                for (int l = 0; l < 32; l++) {
                    y[p + 16 + j / 2 + l] = (byte) ((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4));
                }
            }
        } else {
            for (int k = 0; k < 32; k++) y[p + 16 + k] = 0;
            int m1 = 1;
            int m2 = 2;
            for (int n = 0; n < QK_K; n += 64) {
                for (int j = 0; j < 32; j++) {
                    int l1 = L[n + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        y[p + 16 + j] |= (byte) m1;
                    }
                    int l2 = L[n + j + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        y[p + 16 + j] |= (byte) m2;
                    }
                    y[p + 48 + n / 2 + j] = (byte) ((l1 & 0xF) | ((l2 & 0xF) << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
        }
    }

    /**
     * Writes a Q2_K super-block from 4-bit scale/min codes and fp32 super-scales (requantizing with the
     * stored fp16 values; sub-blocks with a zero scale keep {@code L}).
     */
    static void writeQ2KBlock(float[] x, int o, byte[] y, int p, int[] sc, int[] mn, float d, float dmin, int[] L) {
        for (int j = 0; j < 16; j++) {
            y[p + j] = (byte) ((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
        }
        putHalf(y, p + 80, d);
        putHalf(y, p + 82, dmin);
        requantizeAsymmetric(x, o, L, 16, 16, sc, mn, f16(d), f16(dmin), 3);
        packTwoBit(L, y, p + 16);
    }

    /**
     * Re-rounds each sub-block of {@code x} (unless {@code x} is null) against its stored scale {@code dh * sc[j]}
     * and min {@code dmh * mn[j]}, codes clamped to [0, nmax]; a sub-block whose stored scale is zero keeps {@code L}.
     */
    private static void requantizeAsymmetric(float[] x, int o, int[] L, int subBlocks, int subSize, int[] sc, int[] mn,
                                             float dh, float dmh, int nmax) {
        for (int j = 0; j < subBlocks && x != null; j++) {
            float dd = dh * sc[j];
            if (dd == 0) continue;
            float dm = dmh * mn[j];
            for (int ii = 0; ii < subSize; ii++) {
                int l = nearestInt((x[o + subSize * j + ii] + dm) / dd);
                L[subSize * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /**
     * Re-rounds each 16-element sub-block of {@code x} (unless {@code x} is null) against its stored scale
     * {@code dh * codes[j]}, codes clamped to [-offset, offset - 1] and stored plus {@code offset}; a sub-block
     * whose stored scale is zero keeps {@code L}.
     */
    private static void requantizeSymmetric(float[] x, int o, int[] L, int[] codes, float dh, int offset) {
        for (int j = 0; j < 16 && x != null; j++) {
            float dd = dh * codes[j];
            if (dd == 0) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearestInt(x[o + 16 * j + ii] / dd);
                L[16 * j + ii] = Math.max(-offset, Math.min(offset - 1, l)) + offset;
            }
        }
    }

    /** llama.cpp's {@code make_qx_quants} with {@code rmse_type = 1} (or the given weights); codes offset by nmax. */
    static float makeQx(int n, int nmax, float[] x, int o, int[] L, int lo, float[] qw) {
        float max = groupMaxOrZeroCodes(n, x, o, L, lo);
        if (max == 0) return 0f;
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = symmetricCode(iscale * x[o + i], nmax);
            L[lo + i] = l + nmax;
            float w = qw != null ? qw[i] : x[o + i] * x[o + i];
            sumlx += w * x[o + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                int l = symmetricCode(iscale * x[o + i], nmax);
                float w = qw != null ? qw[i] : x[o + i] * x[o + i];
                sumlx += w * x[o + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lo + i] = nmax + symmetricCode(iscale * x[o + i], nmax);
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    private static void refQ6_K(float[] x, int o, byte[] y, int p) {
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        for (int ib = 0; ib < 16; ib++) {
            scales[ib] = makeQx(16, 32, x, o + 16 * ib, L, 16 * ib, null);
        }
        float maxScale = largestMagnitude(scales, 0, 16);
        if (Math.abs(maxScale) < GROUP_MAX_EPS) {
            for (int k = 0; k < 210; k++) y[p + k] = 0;
            return;
        }
        float iscale = -128f / maxScale;
        int[] codes = new int[16];
        for (int ib = 0; ib < 16; ib++) {
            codes[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        }
        writeQ6KBlock(x, o, y, p, codes, 1 / iscale, L);
    }

    /** Writes a Q6_K super-block from its int8 sub-block scales and fp32 super-scale, requantizing with the stored fp16 d. */
    static void writeQ6KBlock(float[] x, int o, byte[] y, int p, int[] codes, float d, int[] L) {
        putHalf(y, p + 208, d);
        float dh = f16(d);
        for (int ib = 0; ib < 16; ib++) {
            y[p + 192 + ib] = (byte) codes[ib];
        }
        requantizeSymmetric(x, o, L, codes, dh, 32);
        for (int j = 0; j < QK_K; j += 128) {
            int ql = p + j / 2;
            int qh = p + 128 + j / 4;
            for (int l = 0; l < 32; l++) {
                int q1 = L[j + l] & 0xF;
                int q2 = L[j + l + 32] & 0xF;
                int q3 = L[j + l + 64] & 0xF;
                int q4 = L[j + l + 96] & 0xF;
                y[ql + l] = (byte) (q1 | (q3 << 4));
                y[ql + l + 32] = (byte) (q2 | (q4 << 4));
                y[qh + l] = (byte) (((L[j + l] >>> 4) & 3) | (((L[j + l + 32] >>> 4) & 3) << 2)
                        | (((L[j + l + 64] >>> 4) & 3) << 4) | (((L[j + l + 96] >>> 4) & 3) << 6));
            }
        }
    }
}
