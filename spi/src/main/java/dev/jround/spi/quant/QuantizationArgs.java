package dev.jround.spi.quant;

import java.util.Locale;

/**
 * How one tensor kind (weights or activations) is quantized, the way compressed-tensors' quantization arguments
 * describe it: number type, bits, strategy with its group shape, symmetry and the dtype scales are stored in.
 *
 * @param numberType what a quantized element is
 * @param bits       element bits; 16 or more with {@link NumberType#NONE} means "not quantized"
 * @param strategy   what one scale covers
 * @param groupSize  group length along the input dimension for {@link Strategy#GROUP}; {@code -1} for
 *                   {@link Strategy#CHANNEL}, {@code 0} for {@link Strategy#TENSOR} (the scheme's convention)
 * @param symmetric  symmetric (no zero-point offset)
 * @param scaleType  storage dtype of scales
 */
public record QuantizationArgs(NumberType numberType, int bits, Strategy strategy, int groupSize, boolean symmetric,
                               ScaleType scaleType) {

    /** Number families; FLOAT covers fp8 and the MX/NV micro-scaling formats (their element format comes with them). */
    public enum NumberType { NONE, INT, FLOAT }

    /** Scale granularity; BLOCK (2-D tiles) is reserved for block-wise FP8 and nothing resolves to it yet. */
    public enum Strategy { TENSOR, CHANNEL, GROUP, BLOCK }

    public enum ScaleType {
        FP16("fp16"), BF16("bf16"), FP32("fp32");

        private final String wire;

        ScaleType(String wire) {
            this.wire = wire;
        }

        /** The spelling used in configs and quantization_config. */
        public String wireName() {
            return wire;
        }

        /** Parses the scheme's scale dtype spellings (fp16/float16/half, bf16/bfloat16, fp32/float32/float). */
        public static ScaleType parse(String s) {
            String n = s == null ? "fp16" : s.toLowerCase(Locale.ROOT);
            return switch (n) {
                case "fp16", "float16", "half" -> FP16;
                case "bf16", "bfloat16" -> BF16;
                case "fp32", "float32", "float" -> FP32;
                default -> throw new IllegalArgumentException("unknown scale dtype '" + s + "'");
            };
        }
    }

    public static final QuantizationArgs NOT_QUANTIZED = new QuantizationArgs(NumberType.NONE, 16, Strategy.TENSOR, 0,
            true, ScaleType.FP16);

    public QuantizationArgs {
        if (numberType == null || strategy == null || scaleType == null) {
            throw new IllegalArgumentException("quantization args need a number type, a strategy and a scale type");
        }
    }

    /** Strategy of the scheme group-size convention: {@code 0} per tensor, {@code -1} per channel, {@code >0} groups. */
    public static Strategy strategyOf(int groupSize) {
        return groupSize == 0 ? Strategy.TENSOR : groupSize < 0 ? Strategy.CHANNEL : Strategy.GROUP;
    }

    /** Number family of a scheme data type string: {@code int*} (including GGUF's int_*_dq) or floating point. */
    public static NumberType numberTypeOf(String dataType, int bits) {
        if (bits >= 16) {
            return NumberType.NONE;
        }
        return dataType != null && dataType.startsWith("int") ? NumberType.INT : NumberType.FLOAT;
    }

    public boolean quantized() {
        return numberType != NumberType.NONE;
    }

    /** The grouping of a {@code [rows, cols]} tensor under these args (the one group-layout computation). */
    public GroupLayout layout(int rows, int cols) {
        return new GroupLayout(rows, cols, groupSize);
    }
}
