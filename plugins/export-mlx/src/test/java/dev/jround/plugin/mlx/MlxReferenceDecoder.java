package dev.jround.plugin.mlx;

import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An independent decoder of MLX affine weights, written from how MLX's CPU backend reads them rather than from the
 * exporter's bit stream: the uint32 tensor is taken as raw little-endian bytes; 2/4/8-bit codes come
 * {@code 8/bits} per byte, lowest bits first; 3- and 5-bit codes come 8 per 3 and 5 bytes, 6-bit codes 4 per 3 bytes,
 * each value's bits spread over consecutive bytes lowest first. Then {@code w = scale*q + bias} per group.
 */
public final class MlxReferenceDecoder {

    private MlxReferenceDecoder() {
    }

    /** Codes of a {@code [out, in*bits/32]} U32 tensor as {@code [out][in]}. */
    public static int[][] codes(HostTensor weight, int bits) {
        if (weight.dtype() != DType.U32) {
            throw new AssertionError("MLX weight must be U32, got " + weight.dtype());
        }
        int out = (int) weight.shape()[0];
        int rowBytes = (int) weight.shape()[1] * 4;
        int in = rowBytes * 8 / bits;
        ByteBuffer b = weight.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        int[][] q = new int[out][in];
        for (int r = 0; r < out; r++) {
            int at = base + r * rowBytes;
            int c = 0;
            if (bits == 2 || bits == 4 || bits == 8) {
                for (int k = 0; k < rowBytes; k++) {
                    int byt = b.get(at + k) & 0xFF;
                    for (int p = 0; p < 8 / bits; p++) {
                        q[r][c++] = (byt >> (p * bits)) & ((1 << bits) - 1);
                    }
                }
            } else {
                int perPack = bits == 6 ? 4 : 8;
                int packBytes = bits == 5 ? 5 : 3;
                for (int k = 0; k < rowBytes; k += packBytes) {
                    for (int p = 0; p < perPack; p++) {
                        int value = 0;
                        for (int bit = 0; bit < bits; bit++) {
                            int pos = p * bits + bit; // bit position inside the pack
                            int byt = b.get(at + k + pos / 8) & 0xFF;
                            value |= ((byt >> (pos % 8)) & 1) << bit;
                        }
                        q[r][c++] = value;
                    }
                }
            }
        }
        return q;
    }

    /** {@code scale*q + bias} in float32, row-major {@code [out*in]}. */
    public static float[] dequantize(HostTensor weight, HostTensor scales, HostTensor biases, int bits) {
        int[][] q = codes(weight, bits);
        int out = q.length;
        int in = q[0].length;
        int groups = (int) scales.shape()[1];
        int group = in / groups;
        float[] s = scales.toFloats();
        float[] bi = biases.toFloats();
        float[] w = new float[out * in];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                float scale = s[r * groups + c / group];
                float bias = bi[r * groups + c / group];
                w[r * in + c] = scale * q[r][c] + bias;
            }
        }
        return w;
    }
}
