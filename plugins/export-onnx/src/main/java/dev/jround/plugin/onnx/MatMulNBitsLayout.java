package dev.jround.plugin.onnx;

import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.Optional;

/**
 * How a weight-only integer layer maps onto ONNX Runtime's {@code com.microsoft::MatMulNBits}: the op's CPU and
 * CUDA kernels take 2, 4 and 8 bits, blocks along K of a power of two of at least 16 elements, one scale and one
 * packed zero point per (output row, block), and K padded to whole blocks (docs/formats.md, "onnx").
 *
 * @param n         output features (rows of the checkpoint weight)
 * @param k         input features
 * @param bits      code bits
 * @param blockSize elements of K per block
 */
record MatMulNBitsLayout(int n, int k, int bits, int blockSize) {

    static final int MIN_BLOCK = 16;
    /** The largest block the CPU kernel's dequantizing fallback handles (docs/formats.md, "onnx"). */
    static final int MAX_BLOCK = 256;

    int kBlocks() {
        return (k + blockSize - 1) / blockSize;
    }

    /** Bytes of one block of codes. */
    int blobSize() {
        return blockSize * bits / 8;
    }

    /** Bytes of one row's packed zero points. */
    int zeroPointBytesPerRow() {
        return (kBlocks() * bits + 7) / 8;
    }

    /** Why MatMulNBits cannot hold the layer's scheme, or empty when it can. */
    static Optional<String> refusal(LayerSpec layer) {
        if (!layer.quantized()) {
            return Optional.empty();
        }
        QuantScheme s = layer.scheme();
        String where = "layer " + layer.name() + " (" + s + ")";
        if (s.actBits() < 16) {
            return Optional.of("MatMulNBits is weight-only; " + where + " quantizes activations to " + s.actBits() + " bits");
        }
        if (s.dataType() == null || !s.dataType().toLowerCase(java.util.Locale.ROOT).startsWith("int")) {
            return Optional.of("MatMulNBits holds integer grids; " + where + " has data type " + s.dataType());
        }
        if (s.bits() != 2 && s.bits() != 4 && s.bits() != 8) {
            return Optional.of("MatMulNBits takes 2, 4 or 8 bits; " + where + " has " + s.bits());
        }
        if (s.groupSize() == 0) {
            return Optional.of("MatMulNBits has one scale per row and block; " + where + " has one scale per tensor");
        }
        int block = blockFor(layer.inFeatures(), s.groupSize());
        if (block < MIN_BLOCK || block > MAX_BLOCK || Integer.bitCount(block) != 1) {
            String what = s.groupSize() < 0 ? "a per-channel group of " + layer.inFeatures() + " input features"
                    : "group size " + s.groupSize();
            return Optional.of("MatMulNBits blocks are powers of two from " + MIN_BLOCK + " to " + MAX_BLOCK + "; "
                    + where + " has " + what);
        }
        return Optional.empty();
    }

    /**
     * The block for a layer of {@code k} inputs: the group, or for per-channel scales the smallest power of two
     * (at least 16) covering the row, so the single padded block carries the row's one scale.
     */
    static int blockFor(int k, int groupSize) {
        if (groupSize > 0) {
            return groupSize;
        }
        return Math.max(MIN_BLOCK, Integer.highestOneBit(Math.max(1, k - 1)) << 1);
    }

    static MatMulNBitsLayout of(LayerSpec layer) {
        return new MatMulNBitsLayout(layer.outFeatures(), layer.inFeatures(), layer.scheme().bits(),
                blockFor(layer.inFeatures(), layer.scheme().groupSize()));
    }

    /**
     * The codes as B {@code [N, kBlocks, blobSize]}: element {@code j} of a block sits at bit {@code (j % (8/bits)) *
     * bits} of byte {@code j / (8/bits)}, low bits first; padding beyond K holds the block's zero point so that it
     * dequantizes to 0.
     */
    byte[] packCodes(IntegerGrid g) {
        int perByte = 8 / bits;
        int mask = (1 << bits) - 1;
        int gpr = kBlocks();
        byte[] out = new byte[n * gpr * blobSize()];
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < gpr; b++) {
                int zero = g.zeros()[r * gpr + b];
                int base = (r * gpr + b) * blobSize();
                for (int j = 0; j < blockSize; j++) {
                    int c = b * blockSize + j;
                    int q = c < k ? g.codes()[r * k + c] : zero;
                    out[base + j / perByte] |= (byte) ((q & mask) << ((j % perByte) * bits));
                }
            }
        }
        return out;
    }

    /** Zero points {@code [N, ceil(kBlocks*bits/8)]}, packed like the codes, each row starting on a byte. */
    byte[] packZeros(IntegerGrid g) {
        int perByte = 8 / bits;
        int mask = (1 << bits) - 1;
        int gpr = kBlocks();
        int rowBytes = zeroPointBytesPerRow();
        byte[] out = new byte[n * rowBytes];
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < gpr; b++) {
                int z = g.zeros()[r * gpr + b];
                out[r * rowBytes + b / perByte] |= (byte) ((z & mask) << ((b % perByte) * bits));
            }
        }
        return out;
    }

    /** Checks the grid has the shape and ranges the op needs; the message names the layer. */
    void check(String layer, IntegerGrid g) {
        int gpr = g.groupsPerRow(k);
        if (gpr != kBlocks() || g.scales().length != n * kBlocks() || g.codes().length != n * k) {
            throw new IllegalStateException("layer " + layer + ": grid of " + gpr + " groups per row does not match "
                    + kBlocks() + " MatMulNBits blocks of " + blockSize);
        }
        int max = 1 << bits;
        for (int z : g.zeros()) {
            if (z < 0 || z >= max) {
                throw new dev.jround.spi.UnsupportedFeatureException("layer " + layer + " has zero point " + z
                        + " outside MatMulNBits' " + bits + "-bit range [0, " + (max - 1) + "]",
                        "quantize with a zero point inside the code range (any int scheme of jround does)");
            }
        }
        for (int c : g.codes()) {
            if (c < 0 || c >= max) {
                throw new IllegalStateException("layer " + layer + " has code " + c + " outside " + bits + " bits");
            }
        }
    }
}
