package dev.jround.lib.hf;

/**
 * The dense little-endian bit stream shared by GPTQ, auto_round, MLX and compressed-tensors packing:
 * value {@code j} of a run occupies stream bits {@code [j*b, j*b+b)}, and stream bit {@code k} lives in
 * word {@code k/32} at bit {@code k%32}. For 2/4/8 bits this is "value j at shift (j % (32/b))*b"; for
 * 3 bits it is the GPTQ layout where values 10 and 21 of each 32 straddle word boundaries.
 */
public final class BitStream {

    private BitStream() {
    }

    /** Words needed for {@code count} values of {@code bits} bits; the run must fill whole words (GPTQ, auto_round). */
    public static int words(int count, int bits) {
        checkBits(bits);
        long totalBits = (long) count * bits;
        if (totalBits % 32 != 0) {
            throw new IllegalArgumentException(count + " values of " + bits + " bits do not fill whole 32-bit words");
        }
        return Math.toIntExact(totalBits / 32);
    }

    /** Words for {@code count} values when the last word may be partly used and zero-padded (compressed-tensors). */
    public static int paddedWords(int count, int bits) {
        checkBits(bits);
        return Math.toIntExact(((long) count * bits + 31) / 32);
    }

    /**
     * Packs {@code count} values read from {@code values[from + i*stride]} into {@code words(count, bits)}
     * words written to {@code out[outFrom + k*outStride]}. Values are masked to {@code bits} bits.
     */
    public static void pack(int[] values, int from, int stride, int count, int bits,
                            int[] out, int outFrom, int outStride) {
        words(count, bits);
        packRun(values, from, stride, count, bits, out, outFrom, outStride);
    }

    /** As {@link #pack(int[], int, int, int, int, int[], int, int)} into {@code paddedWords(count, bits)} words. */
    public static void packPadded(int[] values, int from, int stride, int count, int bits,
                                  int[] out, int outFrom, int outStride) {
        checkBits(bits);
        packRun(values, from, stride, count, bits, out, outFrom, outStride);
    }

    private static void packRun(int[] values, int from, int stride, int count, int bits,
                                int[] out, int outFrom, int outStride) {
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

    /** Packs a contiguous run of values into a new word array. */
    public static int[] pack(int[] values, int bits) {
        int[] out = new int[words(values.length, bits)];
        pack(values, 0, 1, values.length, bits, out, 0, 1);
        return out;
    }

    /**
     * Unpacks {@code count} unsigned values from words {@code in[inFrom + k*inStride]} into
     * {@code out[outFrom + i*outStride]}.
     */
    public static void unpack(int[] in, int inFrom, int inStride, int count, int bits,
                              int[] out, int outFrom, int outStride) {
        words(count, bits);
        unpackRun(in, inFrom, inStride, count, bits, out, outFrom, outStride);
    }

    /** The inverse of {@link #packPadded}. */
    public static void unpackPadded(int[] in, int inFrom, int inStride, int count, int bits,
                                    int[] out, int outFrom, int outStride) {
        checkBits(bits);
        unpackRun(in, inFrom, inStride, count, bits, out, outFrom, outStride);
    }

    private static void unpackRun(int[] in, int inFrom, int inStride, int count, int bits,
                                  int[] out, int outFrom, int outStride) {
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

    /** Unpacks a contiguous run of words into {@code count} values. */
    public static int[] unpack(int[] words, int count, int bits) {
        int[] out = new int[count];
        unpack(words, 0, 1, count, bits, out, 0, 1);
        return out;
    }

    static void checkBits(int bits) {
        if (bits < 1 || bits > 16) {
            throw new IllegalArgumentException("bit width " + bits + " is outside 1..16");
        }
    }
}
