package dev.jround.spi.quant;

/**
 * A resolved weight(-and-activation) quantization scheme, the fields of AutoRound's scheme record.
 *
 * @param bits           weight bits; 16 or more means "not quantized"
 * @param groupSize      {@code >0} groups along the input dimension, {@code -1} per output channel, {@code 0} per tensor
 * @param sym            symmetric weights
 * @param dataType       number format family: {@code int}, {@code fp}, {@code gguf ...}
 * @param actBits        activation bits (16 = not quantized)
 * @param superBits      double-quantization bits (GGUF k-quants), 0 if none
 * @param superGroupSize groups per super-block (GGUF k-quants), 0 if none
 * @param scaleDtype     storage dtype of scales: {@code fp16}, {@code bf16} or {@code fp32}
 */
public record QuantScheme(int bits, int groupSize, boolean sym, String dataType, int actBits,
                          int superBits, int superGroupSize, String scaleDtype) {

    public static QuantScheme intWeightOnly(int bits, int groupSize, boolean sym) {
        return new QuantScheme(bits, groupSize, sym, "int", 16, 0, 0, "fp16");
    }

    public static final QuantScheme FULL_PRECISION = new QuantScheme(16, 0, true, "float", 16, 0, 0, "fp16");

    public boolean quantizesWeights() {
        return bits < 16;
    }

    public QuantScheme withBits(int b) {
        return new QuantScheme(b, groupSize, sym, dataType, actBits, superBits, superGroupSize, scaleDtype);
    }

    public QuantScheme withGroupSize(int g) {
        return new QuantScheme(bits, g, sym, dataType, actBits, superBits, superGroupSize, scaleDtype);
    }

    public QuantScheme withSym(boolean s) {
        return new QuantScheme(bits, groupSize, s, dataType, actBits, superBits, superGroupSize, scaleDtype);
    }

    public QuantScheme withDataType(String d) {
        return new QuantScheme(bits, groupSize, sym, d, actBits, superBits, superGroupSize, scaleDtype);
    }

    public QuantScheme withScaleDtype(String d) {
        return new QuantScheme(bits, groupSize, sym, dataType, actBits, superBits, superGroupSize, d);
    }

    /** Effective group length for a row of {@code in} elements (per-channel, per-tensor and short rows as AutoRound does). */
    public int effectiveGroup(int in) {
        if (groupSize <= 0 || in < groupSize) {
            return in;
        }
        return groupSize;
    }

    /** Number of groups along a row of {@code in} elements (rows padded on the right when the group does not divide). */
    public int groupsPerRow(int in) {
        int g = effectiveGroup(in);
        return (in + g - 1) / g;
    }

    @Override
    public String toString() {
        if (!quantizesWeights()) {
            return "fp16";
        }
        return "W" + bits + "G" + groupSize + (sym ? " sym " : " asym ") + dataType;
    }
}
