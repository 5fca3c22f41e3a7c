package dev.jround.plugin.llmcompressor;

import dev.jround.lib.hf.BitStream;

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
        return BitStream.paddedWords(count, bits);
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
        BitStream.packPadded(values, from, stride, count, bits, out, outFrom, outStride);
    }

    private static void unpack(int[] in, int inFrom, int inStride, int count, int bits, int[] out, int outFrom, int outStride) {
        BitStream.unpackPadded(in, inFrom, inStride, count, bits, out, outFrom, outStride);
    }
}
