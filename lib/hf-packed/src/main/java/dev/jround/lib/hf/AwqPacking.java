package dev.jround.lib.hf;

/**
 * AutoAWQ GEMM tensors ({@code auto_awq}, {@code auto_round:auto_awq}), 4-bit only, packed along the output
 * dimension with the interleaved nibble order: slot {@code p} of a word holds output channel
 * {@code 8c + ORDER[p]}. {@code qweight} int32 {@code [in, out/8]}, {@code qzeros} int32 {@code [groups, out/8]}
 * (zero points as is), {@code scales} fp16 {@code [groups, out]}.
 */
public final class AwqPacking {

    /** Slot to channel offset. */
    static final int[] ORDER = {0, 2, 4, 6, 1, 3, 5, 7};
    /** Channel offset to slot. */
    static final int[] SLOT = {0, 4, 1, 5, 2, 6, 3, 7};

    private AwqPacking() {
    }

    /** Packs codes {@code [out][in]} into qweight {@code [in][out/8]}. */
    public static int[] packQweight(int[] codes, int out, int in) {
        GptqPacking.checkLength("codes", codes.length, (long) out * in);
        return packAlongOutput(codes, out, in);
    }

    /** Unpacks qweight {@code [in][out/8]} into codes {@code [out][in]}. */
    public static int[] unpackQweight(int[] qweight, int out, int in) {
        GptqPacking.checkLength("qweight", qweight.length, (long) in * (out / 8));
        return unpackAlongOutput(qweight, out, in);
    }

    /** Packs zero points {@code [out][groups]} into qzeros {@code [groups][out/8]}. */
    public static int[] packQzeros(int[] zeros, int out, int groups) {
        GptqPacking.checkLength("zeros", zeros.length, (long) out * groups);
        return packAlongOutput(zeros, out, groups);
    }

    /** Unpacks qzeros {@code [groups][out/8]} into zero points {@code [out][groups]}. */
    public static int[] unpackQzeros(int[] qzeros, int out, int groups) {
        GptqPacking.checkLength("qzeros", qzeros.length, (long) groups * (out / 8));
        return unpackAlongOutput(qzeros, out, groups);
    }

    /** values {@code [out][k]} -> words {@code [k][out/8]}. */
    private static int[] packAlongOutput(int[] values, int out, int k) {
        if (out % 8 != 0) {
            throw new IllegalArgumentException("AWQ packing needs out_features divisible by 8, got " + out);
        }
        int cols = out / 8;
        int[] words = new int[Math.multiplyExact(k, cols)];
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < cols; c++) {
                int w = 0;
                for (int p = 0; p < 8; p++) {
                    w |= (values[(8 * c + ORDER[p]) * k + r] & 0xF) << (4 * p);
                }
                words[r * cols + c] = w;
            }
        }
        return words;
    }

    private static int[] unpackAlongOutput(int[] words, int out, int k) {
        int cols = out / 8;
        int[] values = new int[Math.multiplyExact(out, k)];
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < cols; c++) {
                int w = words[r * cols + c];
                for (int j = 0; j < 8; j++) {
                    values[(8 * c + j) * k + r] = (w >>> (4 * SLOT[j])) & 0xF;
                }
            }
        }
        return values;
    }
}
