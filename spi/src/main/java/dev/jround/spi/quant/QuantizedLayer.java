package dev.jround.spi.quant;

import java.util.Objects;
import java.util.Optional;

/**
 * A finished quantized linear layer as exporters receive it: host-side, engine-free. Shapes are row-major over
 * the weight's {@code [rows = out, cols = in]} layout. What is stored besides the dequantized weight is a typed
 * {@link Payload}: an exporter checks for the variant it can write ({@link IntegerGrid}, {@link GgmlBlocks},
 * {@link FloatElements}); every exporter may fall back on {@link #dequantized()}.
 */
public final class QuantizedLayer {

    private final LayerSpec spec;
    private final Payload payload;
    private final float[] dequantized;
    private final float[] bias;
    private final float[] importance;

    /**
     * @param spec        the resolved layer spec (name, shape, scheme)
     * @param payload     the stored form of the weight
     * @param dequantized the fake-quantized weight in float32, {@code rows*cols}; always present
     * @param bias        the layer's bias (float32) or {@code null}
     * @param importance  the importance matrix (mean squared input per column, {@code cols}) or {@code null}
     */
    public QuantizedLayer(LayerSpec spec, Payload payload, float[] dequantized, float[] bias, float[] importance) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.payload = Objects.requireNonNull(payload, "payload");
        this.dequantized = Objects.requireNonNull(dequantized, "dequantized");
        this.bias = bias;
        this.importance = importance;
    }

    /** An integer-grid layer without importance matrix, the common case of integer data types. */
    public static QuantizedLayer ofGrid(LayerSpec spec, int groupSize, int[] codes, float[] scales, int[] zeros,
                                        float[] dequantized, float[] bias) {
        return new QuantizedLayer(spec, new IntegerGrid(spec.scheme().bits(), groupSize, codes, scales, zeros),
                dequantized, bias, null);
    }

    public LayerSpec spec() {
        return spec;
    }

    public Payload payload() {
        return payload;
    }

    public float[] dequantized() {
        return dequantized;
    }

    public float[] bias() {
        return bias;
    }

    public Optional<float[]> importance() {
        return Optional.ofNullable(importance);
    }

    /** The integer grid, or empty for another payload. */
    public Optional<IntegerGrid> integerGrid() {
        return payload instanceof IntegerGrid g ? Optional.of(g) : Optional.empty();
    }

    /** The integer grid; for callers that already checked it is one. */
    public IntegerGrid grid() {
        if (payload instanceof IntegerGrid g) {
            return g;
        }
        throw new IllegalStateException("layer " + name() + " carries " + payload.getClass().getSimpleName() + ", not an integer grid");
    }

    public QuantizedLayer withBias(float[] b) {
        return new QuantizedLayer(spec, payload, dequantized, b, importance);
    }

    public QuantizedLayer withImportance(float[] imatrix) {
        return new QuantizedLayer(spec, payload, dequantized, bias, imatrix);
    }

    public String name() {
        return spec.name();
    }

    public int rows() {
        return spec.outFeatures();
    }

    public int cols() {
        return spec.inFeatures();
    }

    public int bits() {
        return spec.scheme().bits();
    }

    /** Groups along a row of the integer grid. */
    public int groupsPerRow() {
        return grid().groupsPerRow(cols());
    }

    @Override
    public String toString() {
        return "QuantizedLayer[" + name() + " " + rows() + "x" + cols() + " " + payload.getClass().getSimpleName() + "]";
    }
}
