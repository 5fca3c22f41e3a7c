package dev.jround.spi.quant;

import java.util.Locale;
import java.util.Objects;

/**
 * How one tensor kind (weights or activations) is quantized, the way compressed-tensors' quantization arguments
 * describe it: number type, bits, strategy with its group shape, symmetry, dynamics and the dtype scales are stored
 * in. A final class with a builder (not a record) so that arguments can be added in a minor version.
 */
public final class QuantizationArgs {

    /** Number families; FLOAT covers fp8 and the MX/NV micro-scaling formats (their element format comes with them). */
    public enum NumberType { NONE, INT, FLOAT }

    /**
     * What one scale covers: the whole tensor, one output channel (weights), one token (activations, AutoRound's
     * {@code act_group_size = -1}), a group along the input dimension, or a 2-D block of weights.
     */
    public enum Strategy { TENSOR, CHANNEL, TOKEN, GROUP, BLOCK }

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

    /** Not quantized (16-bit), per tensor, symmetric, dynamic, fp16 scales. */
    public static final QuantizationArgs NOT_QUANTIZED = builder().build();

    private final NumberType numberType;
    private final int bits;
    private final Strategy strategy;
    private final int groupSize;
    private final int blockRows;
    private final boolean symmetric;
    private final boolean dynamic;
    private final ScaleType scaleType;

    private QuantizationArgs(Builder b) {
        if (b.numberType == null || b.strategy == null || b.scaleType == null) {
            throw new IllegalArgumentException("quantization args need a number type, a strategy and a scale type");
        }
        if (b.strategy == Strategy.BLOCK ? b.blockRows <= 0 || b.groupSize <= 0 : b.blockRows != 0) {
            throw new IllegalArgumentException("a 2-D block needs positive rows and columns, and only BLOCK has rows");
        }
        this.numberType = b.numberType;
        this.bits = b.bits;
        this.strategy = b.strategy;
        this.groupSize = b.groupSize;
        this.blockRows = b.blockRows;
        this.symmetric = b.symmetric;
        this.dynamic = b.dynamic;
        this.scaleType = b.scaleType;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.numberType = numberType;
        b.bits = bits;
        b.strategy = strategy;
        b.groupSize = groupSize;
        b.blockRows = blockRows;
        b.symmetric = symmetric;
        b.dynamic = dynamic;
        b.scaleType = scaleType;
        return b;
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

    /** What a quantized element is. */
    public NumberType numberType() {
        return numberType;
    }

    /** Element bits; 16 or more with {@link NumberType#NONE} means "not quantized". */
    public int bits() {
        return bits;
    }

    public Strategy strategy() {
        return strategy;
    }

    /**
     * Group length along the input dimension for {@link Strategy#GROUP}, block columns for {@link Strategy#BLOCK};
     * {@code -1} for {@link Strategy#CHANNEL} and {@link Strategy#TOKEN}, {@code 0} for {@link Strategy#TENSOR}
     * (the scheme's convention).
     */
    public int groupSize() {
        return groupSize;
    }

    /** Block rows (output dimension) for {@link Strategy#BLOCK}, else 0. */
    public int blockRows() {
        return blockRows;
    }

    /** Symmetric (no zero-point offset). */
    public boolean symmetric() {
        return symmetric;
    }

    /** Scales computed per call from the tensor itself (true) or calibrated once (static). */
    public boolean dynamic() {
        return dynamic;
    }

    /** Storage dtype of scales. */
    public ScaleType scaleType() {
        return scaleType;
    }

    public boolean quantized() {
        return numberType != NumberType.NONE;
    }

    /** The grouping of a {@code [rows, cols]} tensor under these args (the one group-layout computation). */
    public GroupLayout layout(int rows, int cols) {
        return new GroupLayout(rows, cols, groupSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizationArgs a && numberType == a.numberType && bits == a.bits && strategy == a.strategy
                && groupSize == a.groupSize && blockRows == a.blockRows && symmetric == a.symmetric
                && dynamic == a.dynamic && scaleType == a.scaleType;
    }

    @Override
    public int hashCode() {
        return Objects.hash(numberType, bits, strategy, groupSize, blockRows, symmetric, dynamic, scaleType);
    }

    @Override
    public String toString() {
        if (!quantized()) {
            return "none";
        }
        String shape = switch (strategy) {
            case GROUP -> "group " + groupSize;
            case BLOCK -> "block " + blockRows + "x" + groupSize;
            default -> strategy.name().toLowerCase(Locale.ROOT);
        };
        return numberType.name().toLowerCase(Locale.ROOT) + bits + " " + shape + (symmetric ? " sym" : " asym")
                + (dynamic ? "" : " static") + " " + scaleType.wireName() + " scales";
    }

    /** Builder; defaults: not quantized, 16 bits, per tensor, symmetric, dynamic, fp16 scales. */
    public static final class Builder {
        private NumberType numberType = NumberType.NONE;
        private int bits = 16;
        private Strategy strategy = Strategy.TENSOR;
        private int groupSize;
        private int blockRows;
        private boolean symmetric = true;
        private boolean dynamic = true;
        private ScaleType scaleType = ScaleType.FP16;

        private Builder() {
        }

        public Builder numberType(NumberType t) {
            this.numberType = t;
            return this;
        }

        public Builder bits(int b) {
            this.bits = b;
            return this;
        }

        public Builder strategy(Strategy s) {
            this.strategy = s;
            return this;
        }

        /** The group length in the scheme's convention; also sets the strategy (TENSOR, CHANNEL or GROUP). */
        public Builder groupSize(int g) {
            this.groupSize = g;
            this.strategy = strategyOf(g);
            this.blockRows = 0;
            return this;
        }

        /** A 2-D block of {@code rows x cols} weights per scale (strategy BLOCK). */
        public Builder block(int rows, int cols) {
            this.strategy = Strategy.BLOCK;
            this.blockRows = rows;
            this.groupSize = cols;
            return this;
        }

        public Builder symmetric(boolean s) {
            this.symmetric = s;
            return this;
        }

        public Builder dynamic(boolean d) {
            this.dynamic = d;
            return this;
        }

        public Builder scaleType(ScaleType t) {
            this.scaleType = t;
            return this;
        }

        public QuantizationArgs build() {
            return new QuantizationArgs(this);
        }
    }
}
