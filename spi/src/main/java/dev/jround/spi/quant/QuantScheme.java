package dev.jround.spi.quant;

import dev.jround.spi.quant.QuantizationArgs.NumberType;
import dev.jround.spi.quant.QuantizationArgs.ScaleType;
import dev.jround.spi.quant.QuantizationArgs.Strategy;

import java.util.Objects;

/**
 * A resolved weight-and-activation quantization scheme (AutoRound's scheme record, docs/algorithms.md): the weight
 * arguments and the activation arguments ({@link QuantizationArgs}, as compressed-tensors models them), the data
 * type names that pick the data-type plugins, and the second-level (double) quantization of GGUF k-quants. The flat
 * accessors ({@link #bits()}, {@link #groupSize()}, …) read the two argument sets; they are what presets, layer
 * configs and quantization_config read and write.
 *
 * <p>Unset activation fields follow the weights when built (AutoRound's normalisation): the activation group size
 * is the weights' group size, the activation symmetry the weights' symmetry, the activation data type the weights'
 * when activations are quantized (else {@code float}), and activations are dynamic. A final class with a builder so
 * that fields can be added within 1.x.
 */
public final class QuantScheme {

    public static final QuantScheme FULL_PRECISION = builder().bits(16).groupSize(0).dataType("float").build();

    private final String dataType;
    private final QuantizationArgs weights;
    private final String actDataType;
    private final QuantizationArgs activations;
    private final int superBits;
    private final int superGroupSize;
    // activation fields as given (null = follow the weights), so that toBuilder() re-derives them after a change
    private final Integer givenActGroupSize;
    private final Boolean givenActSym;
    private final String givenActDataType;
    private final Boolean givenActDynamic;

    private QuantScheme(Builder b) {
        if (b.dataType == null) {
            throw new IllegalArgumentException("a scheme needs a data type");
        }
        ScaleType scales = ScaleType.parse(b.scaleDtype);
        this.dataType = b.dataType;
        QuantizationArgs.Builder w = QuantizationArgs.builder()
                .numberType(QuantizationArgs.numberTypeOf(b.dataType, b.bits)).bits(b.bits)
                .symmetric(b.sym).scaleType(scales);
        if (b.blockRows > 0) {
            w.block(b.blockRows, b.groupSize);
        } else {
            w.groupSize(b.groupSize);
        }
        this.weights = w.build();
        int actGroup = b.actGroupSize != null ? b.actGroupSize : b.groupSize;
        boolean actSym = b.actSym != null ? b.actSym : b.sym;
        this.actDataType = b.actDataType != null ? b.actDataType : b.actBits < 16 ? b.dataType : "float";
        QuantizationArgs.Builder a = QuantizationArgs.builder()
                .numberType(QuantizationArgs.numberTypeOf(actDataType, b.actBits)).bits(b.actBits)
                .groupSize(actGroup).symmetric(actSym).dynamic(b.actDynamic == null || b.actDynamic).scaleType(scales);
        if (actGroup < 0) {
            a.strategy(Strategy.TOKEN);
        }
        this.activations = a.build();
        this.superBits = b.superBits;
        this.superGroupSize = b.superGroupSize;
        this.givenActGroupSize = b.actGroupSize;
        this.givenActSym = b.actSym;
        this.givenActDataType = b.actDataType;
        this.givenActDynamic = b.actDynamic;
    }

    /** A builder with AutoRound's record defaults: W4, group 128, symmetric, {@code int}, activations 16-bit, fp16 scales. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this scheme's values (activation fields that followed the weights keep following them). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bits = weights.bits();
        b.groupSize = weights.groupSize();
        b.blockRows = weights.blockRows();
        b.sym = weights.symmetric();
        b.dataType = dataType;
        b.actBits = activations.bits();
        b.actGroupSize = givenActGroupSize;
        b.actSym = givenActSym;
        b.actDataType = givenActDataType;
        b.actDynamic = givenActDynamic;
        b.superBits = superBits;
        b.superGroupSize = superGroupSize;
        b.scaleDtype = weights.scaleType().wireName();
        return b;
    }

    public static QuantScheme intWeightOnly(int bits, int groupSize, boolean sym) {
        return builder().bits(bits).groupSize(groupSize).sym(sym).build();
    }

    /** The weight quantization arguments. */
    public QuantizationArgs weights() {
        return weights;
    }

    /** The activation quantization arguments ({@link QuantizationArgs#quantized()} false when {@code actBits >= 16}). */
    public QuantizationArgs activations() {
        return activations;
    }

    /** Weight bits; 16 or more means "not quantized". */
    public int bits() {
        return weights.bits();
    }

    /** {@code >0} groups along the input dimension, {@code -1} per output channel, {@code 0} per tensor; block columns for 2-D blocks. */
    public int groupSize() {
        return weights.groupSize();
    }

    public boolean sym() {
        return weights.symmetric();
    }

    /** Weight number format name, the data-type plugin's: {@code int}, {@code mx_fp}, {@code int_asym_dq}, … */
    public String dataType() {
        return dataType;
    }

    public int actBits() {
        return activations.bits();
    }

    public int actGroupSize() {
        return activations.groupSize();
    }

    public boolean actSym() {
        return activations.symmetric();
    }

    /** Activation number format name ({@code float} when activations are not quantized and none was given). */
    public String actDataType() {
        return actDataType;
    }

    public boolean actDynamic() {
        return activations.dynamic();
    }

    /** Double-quantization bits (GGUF k-quants), 0 if none. */
    public int superBits() {
        return superBits;
    }

    /** Groups per super-block (GGUF k-quants), 0 if none. */
    public int superGroupSize() {
        return superGroupSize;
    }

    /** Storage dtype of scales: {@code fp16}, {@code bf16} or {@code fp32}. */
    public String scaleDtype() {
        return weights.scaleType().wireName();
    }

    public boolean quantizesWeights() {
        return bits() < 16;
    }

    public QuantScheme withBits(int b) {
        return toBuilder().bits(b).build();
    }

    public QuantScheme withGroupSize(int g) {
        return toBuilder().groupSize(g).build();
    }

    public QuantScheme withSym(boolean s) {
        return toBuilder().sym(s).build();
    }

    public QuantScheme withDataType(String d) {
        return toBuilder().dataType(d).build();
    }

    public QuantScheme withScaleDtype(String d) {
        return toBuilder().scaleDtype(d).build();
    }

    public QuantScheme withActBits(int b) {
        return toBuilder().actBits(b).build();
    }

    /** Effective group length for a row of {@code in} elements (per-channel, per-tensor and short rows as AutoRound does). */
    public int effectiveGroup(int in) {
        return new GroupLayout(1, in, groupSize()).groupLength();
    }

    /** Number of groups along a row of {@code in} elements (rows padded on the right when the group does not divide). */
    public int groupsPerRow(int in) {
        return new GroupLayout(1, in, groupSize()).groupsPerRow();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantScheme s && weights.equals(s.weights) && activations.equals(s.activations)
                && dataType.equals(s.dataType) && actDataType.equals(s.actDataType) && superBits == s.superBits
                && superGroupSize == s.superGroupSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(weights, activations, dataType, actDataType, superBits, superGroupSize);
    }

    @Override
    public String toString() {
        if (!quantizesWeights()) {
            return "fp16";
        }
        String group = weights.strategy() == Strategy.BLOCK ? weights.blockRows() + "x" + groupSize() : String.valueOf(groupSize());
        String w = "W" + bits() + "G" + group + (sym() ? " sym " : " asym ") + dataType;
        return activations.numberType() == NumberType.NONE ? w
                : w + " A" + actBits() + "G" + actGroupSize() + (actSym() ? " sym " : " asym ") + actDataType
                + (actDynamic() ? "" : " static");
    }

    /** Builder of a scheme; see {@link #builder()} for the defaults. */
    public static final class Builder {
        private int bits = 4;
        private int groupSize = 128;
        private int blockRows;
        private boolean sym = true;
        private String dataType = "int";
        private int actBits = 16;
        private Integer actGroupSize;
        private Boolean actSym;
        private String actDataType;
        private Boolean actDynamic;
        private int superBits;
        private int superGroupSize;
        private String scaleDtype = "fp16";

        private Builder() {
        }

        public Builder bits(int b) {
            this.bits = b;
            return this;
        }

        /** Group size in the scheme's convention ({@code >0}, {@code -1} per channel, {@code 0} per tensor). */
        public Builder groupSize(int g) {
            this.groupSize = g;
            this.blockRows = 0;
            return this;
        }

        /** 2-D blocks of {@code rows x cols} weights per scale (AutoRound's pair group size). */
        public Builder block(int rows, int cols) {
            this.blockRows = rows;
            this.groupSize = cols;
            return this;
        }

        public Builder sym(boolean s) {
            this.sym = s;
            return this;
        }

        public Builder dataType(String d) {
            this.dataType = d;
            return this;
        }

        public Builder actBits(int b) {
            this.actBits = b;
            return this;
        }

        /** Activation group size; null follows the weights' group size. */
        public Builder actGroupSize(Integer g) {
            this.actGroupSize = g;
            return this;
        }

        /** Activation symmetry; null follows the weights. */
        public Builder actSym(Boolean s) {
            this.actSym = s;
            return this;
        }

        /** Activation data type; null follows the weights' when activations are quantized, else {@code float}. */
        public Builder actDataType(String d) {
            this.actDataType = d;
            return this;
        }

        /** Dynamic activation scales; null means dynamic. */
        public Builder actDynamic(Boolean d) {
            this.actDynamic = d;
            return this;
        }

        public Builder superBits(int b) {
            this.superBits = b;
            return this;
        }

        public Builder superGroupSize(int g) {
            this.superGroupSize = g;
            return this;
        }

        public Builder scaleDtype(String d) {
            this.scaleDtype = d;
            return this;
        }

        public QuantScheme build() {
            return new QuantScheme(this);
        }
    }
}
