package dev.jround.plugin.dtype.fp8;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizationArgs;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.Floats;

import java.util.List;
import java.util.Map;

/**
 * FP8 E4M3 weights with float32 scales (docs/algorithms.md): per tensor ({@code group_size 0}), per output channel
 * ({@code -1}), groups along a row, or 2-D blocks (FP8_BLOCK: 128x128), the scheme's {@code BLOCK} strategy.
 */
public final class Fp8DataType implements QuantDataType {

    static final String DATA_TYPE = "fp";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATA_TYPE, DATA_TYPE, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "FP8 E4M3 weights, float32 scale per tensor, channel, group or 128x128 block",
                Map.of("data_types", List.of(DATA_TYPE), "bits", List.of("8")));
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return DATA_TYPE.equals(scheme.dataType()) && scheme.bits() == 8
                && (scheme.groupSize() >= -1 || blocked(scheme));
    }

    private static void check(QuantScheme scheme) {
        if (!DATA_TYPE.equals(scheme.dataType())) {
            throw new UnsupportedFeatureException("data type '" + scheme.dataType() + "' is not fp", "the fp plugin handles data_type fp");
        }
        if (scheme.bits() != 8) {
            throw new InvalidInputException("--bits " + scheme.bits() + " is not supported for data_type fp", "fp weights are FP8 E4M3: 8 bits");
        }
        if (blocked(scheme) ? scheme.groupSize() <= 0 : scheme.groupSize() < -1) {
            throw new InvalidInputException("--group_size " + scheme.groupSize() + " is invalid",
                    "group_size is -1 (per channel), 0 (per tensor) or positive");
        }
    }

    private static boolean blocked(QuantScheme scheme) {
        return scheme.weights().strategy() == QuantizationArgs.Strategy.BLOCK;
    }

    /** The grouping of a {@code [rows, cols]} weight under the scheme. */
    static Fp8Layout layout(QuantScheme scheme, int rows, int cols) {
        return blocked(scheme) ? Fp8Layout.blocks(rows, cols, scheme.weights().blockRows(), scheme.groupSize())
                : Fp8Layout.grouped(rows, cols, scheme.groupSize());
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        check(scheme);
        Shape s = weight.getShape();
        return Fp8Qdq.qdq(weight, layout(scheme, (int) s.get(0), (int) s.get(1)), params);
    }

    @Override
    public TunableParams initTunableParams(NDArray weight, QuantScheme scheme) {
        check(scheme);
        requireFinite("weight", weight.toFloatArray());
        Shape s = weight.getShape();
        Fp8Layout layout = layout(scheme, (int) s.get(0), (int) s.get(1));
        NDManager m = weight.getManager();
        try (NDArray grouped = layout.toGroups(weight.toType(DataType.FLOAT32, false))) {
            NDArray wMin = grouped.min(new int[] {1}).minimum(0f);
            NDArray wMax = grouped.max(new int[] {1}).maximum(0f);
            NDArray v = m.zeros(new Shape(layout.numGroups(), layout.groupLength()), DataType.FLOAT32);
            NDArray alpha = m.ones(new Shape(layout.numGroups()), DataType.FLOAT32);
            NDArray beta = m.ones(new Shape(layout.numGroups()), DataType.FLOAT32);
            return new TunableParams(v, alpha, beta, wMin, wMax);
        }
    }

    @Override
    public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                   float[] imatrix, boolean optimizedRtn) {
        QuantScheme scheme = spec.scheme();
        check(scheme);
        int rows = spec.outFeatures();
        int cols = spec.inFeatures();
        if (weight.length != rows * cols) {
            throw new IllegalArgumentException(spec.name() + ": weight has " + weight.length + " values, shape needs " + rows * cols);
        }
        requireFinite(spec.name(), weight);
        Fp8Layout layout = layout(scheme, rows, cols);
        int numGroups = layout.numGroups();
        int len = layout.groupLength();
        length(spec, "V", v, numGroups * len);
        length(spec, "beta", beta, numGroups);
        // the reference has no optimized RTN for FP8: plain RTN either way
        Fp8Quant.Grouped r = Fp8Quant.quantize(layout.toGroups(weight), numGroups, len, v, beta);
        float[] elements = layout.fromGroups(r.elements());
        byte[] codes = new byte[elements.length];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = Floats.f32ToE4m3(elements[i]);
        }
        FloatElements payload = new FloatElements(FloatElements.ElementFormat.FP8_E4M3, rows, cols, codes,
                FloatElements.ScaleFormat.FP32, layout.blockRows, layout.blockCols, r.scales(), 1f);
        return new QuantizedLayer(spec, payload, layout.fromGroups(r.dequantized()), bias == null ? null : bias.clone(), null);
    }

    static void requireFinite(String what, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(what + " holds " + values[i] + " at element " + i,
                        "FP8 quantization needs finite weights; check the checkpoint for overflowed or corrupt tensors");
            }
        }
    }

    private static void length(LayerSpec spec, String what, float[] a, int expected) {
        if (a != null && a.length != expected) {
            throw new IllegalArgumentException(spec.name() + ": " + what + " has " + a.length + " values, expected " + expected);
        }
    }
}
