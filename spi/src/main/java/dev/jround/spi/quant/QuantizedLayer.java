package dev.jround.spi.quant;

import java.util.Map;

/**
 * A finished quantized linear layer as exporters receive it: host-side, engine-free.
 * Shapes are row-major over the weight's {@code [rows = out, cols = in]} layout and its groups.
 *
 * @param spec        the resolved layer spec (name, shape, scheme)
 * @param groupSize   effective group length along a row (the row length for per-channel)
 * @param codes       unsigned integer codes in {@code [0, 2^bits)}, {@code rows*cols}
 * @param scales      per-group scales, {@code rows*groupsPerRow}; already rounded to the scheme's scale dtype
 * @param zeros       per-group unsigned zero points ({@code 2^(bits-1)} everywhere for symmetric int)
 * @param dequantized the fake-quantized weight {@code scales*(codes-zeros)} in float32, {@code rows*cols}
 * @param bias        the layer's bias (float32) or {@code null}
 * @param extra       format-specific extras (GGUF double-quant scales, tuning statistics ...)
 */
public record QuantizedLayer(LayerSpec spec, int groupSize, int[] codes, float[] scales, int[] zeros,
                             float[] dequantized, float[] bias, Map<String, Object> extra) {

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

    public int groupsPerRow() {
        return (cols() + groupSize - 1) / groupSize;
    }
}
