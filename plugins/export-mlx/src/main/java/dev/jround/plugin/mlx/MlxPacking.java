package dev.jround.plugin.mlx;

import dev.jround.lib.hf.BitStream;

/**
 * MLX's affine weight layout (docs/formats.md, "MLX"): every row of {@code in} codes is one dense little-endian
 * bit stream of {@code in*bits/32} uint32 words, rows one after another. For 3/5/6 bits values straddle word and
 * byte boundaries, which is exactly what MLX's byte-wise extractor reads from the same little-endian stream.
 */
final class MlxPacking {

    /** The bit widths MLX's affine kernels have. */
    static final java.util.Set<Integer> BITS = java.util.Set.of(2, 3, 4, 5, 6, 8);
    /** The group sizes MLX's affine kernels have. */
    static final java.util.Set<Integer> GROUPS = java.util.Set.of(32, 64, 128);

    private MlxPacking() {
    }

    /** Words per row. */
    static int wordsPerRow(int in, int bits) {
        return BitStream.words(in, bits);
    }

    /** Packs row-major {@code [out][in]} codes into {@code [out][in*bits/32]} words. */
    static int[] pack(int[] codes, int out, int in, int bits) {
        int w = wordsPerRow(in, bits);
        int[] words = new int[Math.multiplyExact(out, w)];
        for (int r = 0; r < out; r++) {
            BitStream.pack(codes, r * in, 1, in, bits, words, r * w, 1);
        }
        return words;
    }

    /** The inverse of {@link #pack}. */
    static int[] unpack(int[] words, int out, int in, int bits) {
        int w = wordsPerRow(in, bits);
        if (words.length != (long) out * w) {
            throw new IllegalArgumentException(words.length + " words do not hold " + out + "x" + in + " " + bits + "-bit codes");
        }
        int[] codes = new int[Math.multiplyExact(out, in)];
        for (int r = 0; r < out; r++) {
            BitStream.unpack(words, r * w, 1, in, bits, codes, r * in, 1);
        }
        return codes;
    }

    /** MLX's affine dequantization {@code S*q + B} in float32, row-major {@code [out][in]}. */
    static float[] dequantize(int[] codes, float[] scales, float[] biases, int out, int in, int group) {
        int groups = in / group;
        float[] w = new float[Math.multiplyExact(out, in)];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                int g = r * groups + c / group;
                w[r * in + c] = scales[g] * codes[r * in + c] + biases[g];
            }
        }
        return w;
    }
}
