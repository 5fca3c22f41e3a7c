package dev.jround.spi.quant;

/**
 * A resolved weight(-and-activation) quantization scheme, the fields of AutoRound's scheme record. Typed views:
 * {@link #weights()} and {@link #activations()} ({@link QuantizationArgs}); the flat components stay because they
 * are what presets, layer configs and quantization_config read and write (2.0: store the two args and derive these).
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

    /** The weight quantization arguments. */
    public QuantizationArgs weights() {
        return new QuantizationArgs(QuantizationArgs.numberTypeOf(dataType, bits), bits,
                QuantizationArgs.strategyOf(groupSize), groupSize, sym, QuantizationArgs.ScaleType.parse(scaleDtype));
    }

    /**
     * The activation quantization arguments: not quantized unless {@code actBits < 16}; then per tensor,
     * symmetric, of the weights' number family (the next issue brings activation group shape and dynamics).
     */
    public QuantizationArgs activations() {
        if (actBits >= 16) {
            return QuantizationArgs.NOT_QUANTIZED;
        }
        return new QuantizationArgs(QuantizationArgs.numberTypeOf(dataType, actBits), actBits,
                QuantizationArgs.Strategy.TENSOR, 0, true, QuantizationArgs.ScaleType.parse(scaleDtype));
    }

    /** Effective group length for a row of {@code in} elements (per-channel, per-tensor and short rows as AutoRound does). */
    public int effectiveGroup(int in) {
        return new GroupLayout(1, in, groupSize).groupLength();
    }

    /** Number of groups along a row of {@code in} elements (rows padded on the right when the group does not divide). */
    public int groupsPerRow(int in) {
        return new GroupLayout(1, in, groupSize).groupsPerRow();
    }

    @Override
    public String toString() {
        if (!quantizesWeights()) {
            return "fp16";
        }
        return "W" + bits + "G" + groupSize + (sym ? " sym " : " asym ") + dataType;
    }
}
