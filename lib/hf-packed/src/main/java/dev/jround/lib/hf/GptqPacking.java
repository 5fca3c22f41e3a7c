package dev.jround.lib.hf;

/**
 * GPTQ-family tensors of one Linear ({@code auto_gptq}, {@code auto_round:auto_gptq}, {@code auto_round},
 * {@code auto_round:gptqmodel}). Codes and zeros use the quantizer's row-major layout: codes
 * {@code [out][in]}, zeros and scales {@code [out][groups]}.
 * <ul>
 * <li>{@code qweight} int32 {@code [in*b/32, out]}: column {@code n} is the bit stream of {@code codes[n][*]};</li>
 * <li>{@code qzeros} int32 {@code [groups, out*b/32]}: row {@code g} is the bit stream of the stored zero points
 *     of every output channel;</li>
 * <li>{@code scales} fp16 {@code [groups, out]} (transposed).</li>
 * </ul>
 */
public final class GptqPacking {

    private GptqPacking() {
    }

    public static int qweightRows(int in, int bits) {
        return BitStream.words(in, bits);
    }

    public static int qzerosCols(int out, int bits) {
        return BitStream.words(out, bits);
    }

    /** Packs codes {@code [out][in]} into qweight {@code [in*b/32][out]} (row-major). */
    public static int[] packQweight(int[] codes, int out, int in, int bits) {
        checkLength("codes", codes.length, (long) out * in);
        int rows = qweightRows(in, bits);
        int[] q = new int[Math.multiplyExact(rows, out)];
        for (int n = 0; n < out; n++) {
            BitStream.pack(codes, n * in, 1, in, bits, q, n, out);
        }
        return q;
    }

    /** Unpacks qweight {@code [in*b/32][out]} into codes {@code [out][in]}. */
    public static int[] unpackQweight(int[] qweight, int out, int in, int bits) {
        checkLength("qweight", qweight.length, (long) qweightRows(in, bits) * out);
        int[] codes = new int[Math.multiplyExact(out, in)];
        for (int n = 0; n < out; n++) {
            BitStream.unpack(qweight, n, out, in, bits, codes, n * in, 1);
        }
        return codes;
    }

    /** Packs zero points {@code [out][groups]} into qzeros {@code [groups][out*b/32]} with the given convention. */
    public static int[] packQzeros(int[] zeros, int out, int groups, int bits, ZeroPointConvention convention) {
        checkLength("zeros", zeros.length, (long) out * groups);
        int[] stored = new int[zeros.length];
        for (int i = 0; i < zeros.length; i++) {
            stored[i] = convention.store(zeros[i], bits);
        }
        int cols = qzerosCols(out, bits);
        int[] q = new int[Math.multiplyExact(groups, cols)];
        for (int g = 0; g < groups; g++) {
            BitStream.pack(stored, g, groups, out, bits, q, g * cols, 1);
        }
        return q;
    }

    /** Unpacks qzeros {@code [groups][out*b/32]} into the zero points {@code [out][groups]} a consumer uses. */
    public static int[] unpackQzeros(int[] qzeros, int out, int groups, int bits, ZeroPointConvention convention) {
        int cols = qzerosCols(out, bits);
        checkLength("qzeros", qzeros.length, (long) groups * cols);
        int[] zeros = new int[Math.multiplyExact(out, groups)];
        for (int g = 0; g < groups; g++) {
            BitStream.unpack(qzeros, g * cols, 1, out, bits, zeros, g, groups);
        }
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = convention.load(zeros[i], bits);
        }
        return zeros;
    }

    /** {@code g_idx[i] = i / groupSize}: the group of every input channel when channels are not reordered. */
    public static int[] trivialGIdx(int in, int groupSize) {
        int[] g = new int[in];
        for (int i = 0; i < in; i++) {
            g[i] = i / groupSize;
        }
        return g;
    }

    static void checkLength(String what, long actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + " has " + actual + " elements, expected " + expected);
        }
    }
}
