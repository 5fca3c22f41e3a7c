package dev.jround.lib.hf.testing;

/**
 * An independent reading of packed tensors written straight from docs/formats.md, bit by bit,
 * sharing no code with the packers under test.
 */
public final class SpecDecoder {

    private SpecDecoder() {
    }

    /** Bit {@code pos} of the stream formed by column {@code col} of a {@code [rows][cols]} int32 matrix. */
    private static int columnBit(int[] m, int cols, int col, long pos) {
        int word = m[(int) (pos / 32) * cols + col];
        return (word >>> (pos % 32)) & 1;
    }

    /** Bit {@code pos} of the stream formed by row {@code row} of a {@code [rows][cols]} int32 matrix. */
    private static int rowBit(int[] m, int cols, int row, long pos) {
        int word = m[row * cols + (int) (pos / 32)];
        return (word >>> (pos % 32)) & 1;
    }

    /** GPTQ qweight {@code [in*b/32][out]} -> codes {@code [out][in]}. */
    public static int[] gptqCodes(int[] qweight, int out, int in, int bits) {
        int[] codes = new int[out * in];
        for (int n = 0; n < out; n++) {
            for (int k = 0; k < in; k++) {
                int v = 0;
                for (int j = 0; j < bits; j++) {
                    v |= columnBit(qweight, out, n, (long) k * bits + j) << j;
                }
                codes[n * in + k] = v;
            }
        }
        return codes;
    }

    /** GPTQ qzeros {@code [ng][out*b/32]} -> zeros {@code [out][ng]}, adding one for the v1 convention. */
    public static int[] gptqZeros(int[] qzeros, int out, int ng, int bits, boolean v1) {
        int cols = out * bits / 32;
        int[] z = new int[out * ng];
        for (int g = 0; g < ng; g++) {
            for (int n = 0; n < out; n++) {
                int v = 0;
                for (int j = 0; j < bits; j++) {
                    v |= rowBit(qzeros, cols, g, (long) n * bits + j) << j;
                }
                z[n * ng + g] = v1 ? v + 1 : v;
            }
        }
        return z;
    }

    private static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

    /** AWQ {@code [k][out/8]} words -> values {@code [out][k]}. */
    public static int[] awq(int[] words, int out, int k) {
        int cols = out / 8;
        int[] v = new int[out * k];
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < cols; c++) {
                for (int p = 0; p < 8; p++) {
                    v[(8 * c + AWQ_ORDER[p]) * k + r] = (words[r * cols + c] >>> (4 * p)) & 0xF;
                }
            }
        }
        return v;
    }

    /** fp16 scales {@code [ng][out]} (as floats) -> {@code [out][ng]}. */
    public static float[] transpose(float[] s, int ng, int out) {
        float[] t = new float[s.length];
        for (int g = 0; g < ng; g++) {
            for (int n = 0; n < out; n++) {
                t[n * ng + g] = s[g * out + n];
            }
        }
        return t;
    }
}
