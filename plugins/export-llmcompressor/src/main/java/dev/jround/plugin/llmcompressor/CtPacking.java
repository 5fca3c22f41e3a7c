package dev.jround.plugin.llmcompressor;

/**
 * compressed-tensors' dense int32 packing: {@code b}-bit values form one little-endian bit stream per packed run
 * (value {@code j} at stream bits {@code [j*b, j*b+b)}, stream bit {@code k} in word {@code k/32}, bit {@code k%32}); a
 * run of {@code n} values takes {@code ceil(n*b/32)} words, the last one zero-padded. Weights are packed along each
 * row ({@code [out, ceil(in*b/32)]}), zero points along each column ({@code [ceil(out*b/32), groups]}); see
 * docs/formats.md (llm_compressor).
 */
final class CtPacking {

    private CtPacking() {
    }

    static int words(int count, int bits) {
        return (int) (((long) count * bits + 31) / 32);
    }

    /** Packs each row of a row-major {@code [rows, cols]} array: result {@code [rows, words(cols, bits)]}. */
    static int[] packRows(int[] values, int rows, int cols, int bits) {
        int w = words(cols, bits);
        int[] out = new int[rows * w];
        for (int r = 0; r < rows; r++) {
            pack(values, r * cols, 1, cols, bits, out, r * w, 1);
        }
        return out;
    }

    /** Packs each column of a row-major {@code [rows, cols]} array: result {@code [words(rows, bits), cols]}. */
    static int[] packColumns(int[] values, int rows, int cols, int bits) {
        int w = words(rows, bits);
        int[] out = new int[w * cols];
        for (int c = 0; c < cols; c++) {
            pack(values, c, cols, rows, bits, out, c, cols);
        }
        return out;
    }

    /** The inverse of {@link #packRows}. */
    static int[] unpackRows(int[] words, int rows, int cols, int bits) {
        int w = words(cols, bits);
        int[] out = new int[rows * cols];
        for (int r = 0; r < rows; r++) {
            unpack(words, r * w, 1, cols, bits, out, r * cols, 1);
        }
        return out;
    }

    /** The inverse of {@link #packColumns}. */
    static int[] unpackColumns(int[] words, int rows, int cols, int bits) {
        int[] out = new int[rows * cols];
        for (int c = 0; c < cols; c++) {
            unpack(words, c, cols, rows, bits, out, c, cols);
        }
        return out;
    }

    private static void pack(int[] values, int from, int stride, int count, int bits, int[] out, int outFrom, int outStride) {
        long mask = (1L << bits) - 1;
        long acc = 0;
        int accBits = 0;
        int w = 0;
        for (int i = 0; i < count; i++) {
            acc |= (values[from + i * stride] & mask) << accBits;
            accBits += bits;
            if (accBits >= 32) {
                out[outFrom + w * outStride] = (int) acc;
                w++;
                acc >>>= 32;
                accBits -= 32;
            }
        }
        if (accBits > 0) {
            out[outFrom + w * outStride] = (int) acc;
        }
    }

    private static void unpack(int[] in, int inFrom, int inStride, int count, int bits, int[] out, int outFrom, int outStride) {
        int mask = (1 << bits) - 1;
        long acc = 0;
        int accBits = 0;
        int w = 0;
        for (int i = 0; i < count; i++) {
            if (accBits < bits) {
                acc |= (in[inFrom + w * inStride] & 0xFFFFFFFFL) << accBits;
                w++;
                accBits += 32;
            }
            out[outFrom + i * outStride] = (int) (acc & mask);
            acc >>>= bits;
            accBits -= bits;
        }
    }
}
