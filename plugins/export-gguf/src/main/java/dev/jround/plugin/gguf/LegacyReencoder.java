package dev.jround.plugin.gguf;

import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;

/**
 * Writes a layer the pipeline already quantized on the grid of a legacy GGUF type (int, group 32: symmetric
 * 4/5/8 bits for Q4_0/Q5_0/Q8_0, asymmetric 4/5 bits for Q4_1/Q5_1) from its own codes and scales, so the
 * file decodes to the pipeline's weights (bit for bit when the scales are fp16-representable).
 */
final class LegacyReencoder {

    private LegacyReencoder() {
    }

    static boolean matches(GgmlType type, QuantizedLayer l) {
        QuantScheme s = l.spec().scheme();
        if (!s.quantizesWeights() || !(l.payload() instanceof IntegerGrid g) || g.groupSize() != 32 || l.cols() % 32 != 0
                || s.actBits() < 16) {
            return false;
        }
        if (!(s.dataType().equals("int") || s.dataType().startsWith("gguf"))) {
            return false;
        }
        int groups = l.rows() * (l.cols() / 32);
        if (g.scales().length != groups || g.codes().length != l.rows() * l.cols()) {
            return false;
        }
        return switch (type) {
            case Q4_0 -> s.sym() && s.bits() == 4;
            case Q5_0 -> s.sym() && s.bits() == 5;
            case Q8_0 -> s.sym() && s.bits() == 8;
            case Q4_1 -> !s.sym() && s.bits() == 4 && g.zeros() != null && g.zeros().length == groups;
            case Q5_1 -> !s.sym() && s.bits() == 5 && g.zeros() != null && g.zeros().length == groups;
            default -> false;
        };
    }

    /** Encodes the layer's codes; rows are permuted for llama q/k when {@code permuteHeads > 0}. */
    static byte[] encode(GgmlType type, QuantizedLayer l, int permuteHeads) {
        int rows = l.rows();
        int cols = l.cols();
        int gpr = cols / 32;
        int[] codes = l.grid().codes();
        float[] scales = l.grid().scales();
        int[] zeros = l.grid().zeros();
        if (permuteHeads > 0) {
            codes = GgufNames.permuteForLlama(codes, rows, cols, permuteHeads);
            scales = GgufNames.permuteForLlama(scales, rows, gpr, permuteHeads);
            if (zeros != null) {
                zeros = GgufNames.permuteForLlama(zeros, rows, gpr, permuteHeads);
            }
        }
        int half = 1 << (l.bits() - 1);
        byte[] y = new byte[Math.toIntExact(type.bytesFor((long) rows * cols))];
        int ts = type.typeSize();
        for (int g = 0; g < rows * gpr; g++) {
            int p = g * ts;
            int c0 = g * 32;
            float d = scales[g];
            GgmlQuants.putHalf(y, p, d);
            switch (type) {
                case Q4_0 -> {
                    for (int j = 0; j < 16; j++) y[p + 2 + j] = (byte) ((codes[c0 + j] & 0xF) | ((codes[c0 + j + 16] & 0xF) << 4));
                }
                case Q8_0 -> {
                    for (int j = 0; j < 32; j++) y[p + 2 + j] = (byte) (codes[c0 + j] - half);
                }
                case Q5_0 -> fiveBit(codes, c0, y, p + 2, p + 6);
                case Q4_1 -> {
                    GgmlQuants.putHalf(y, p + 2, -zeros[g] * d);
                    for (int j = 0; j < 16; j++) y[p + 4 + j] = (byte) ((codes[c0 + j] & 0xF) | ((codes[c0 + j + 16] & 0xF) << 4));
                }
                case Q5_1 -> {
                    GgmlQuants.putHalf(y, p + 2, -zeros[g] * d);
                    fiveBit(codes, c0, y, p + 4, p + 8);
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return y;
    }

    private static void fiveBit(int[] codes, int c0, byte[] y, int qhPos, int qsPos) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int a = codes[c0 + j];
            int b = codes[c0 + j + 16];
            y[qsPos + j] = (byte) ((a & 0xF) | ((b & 0xF) << 4));
            qh |= ((a >>> 4) & 1) << j;
            qh |= ((b >>> 4) & 1) << (j + 16);
        }
        GgmlQuants.le(y).putInt(qhPos, qh);
    }
}
