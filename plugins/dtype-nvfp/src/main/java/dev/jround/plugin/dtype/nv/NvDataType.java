package dev.jround.plugin.dtype.nv;

import dev.jround.lib.quant.ImportanceMatrix;
import ai.djl.ndarray.NDArray;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;

import java.util.List;
import java.util.Map;

/**
 * NVFP4 weights (docs/algorithms.md): E2M1 elements in groups of 16, an FP8 E4M3 scale per group and a float32
 * global scale per tensor ({@code 448 * 6 / max|W|}). Each layer has its own global scale.
 */
public final class NvDataType implements QuantDataType {

    static final String DATA_TYPE = "nv_fp";
    static final int GROUP = 16;

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATA_TYPE, DATA_TYPE, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "NVFP4: E2M1 elements, FP8 E4M3 scale per 16, per-tensor global scale",
                Map.of("data_types", List.of(DATA_TYPE), "bits", List.of("4")));
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return DATA_TYPE.equals(scheme.dataType()) && scheme.bits() == 4 && scheme.groupSize() == GROUP;
    }

    private static void check(QuantScheme scheme) {
        if (!DATA_TYPE.equals(scheme.dataType())) {
            throw new UnsupportedFeatureException("data type '" + scheme.dataType() + "' is not nv_fp", "the nv_fp plugin handles data_type nv_fp");
        }
        if (scheme.bits() != 4) {
            throw new InvalidInputException("--bits " + scheme.bits() + " is not supported for data_type nv_fp", "nv_fp takes 4 bits (NVFP4)");
        }
        if (scheme.groupSize() != GROUP) {
            throw new InvalidInputException("--group_size " + scheme.groupSize() + " is not supported for data_type nv_fp",
                    "NVFP4 uses groups of 16");
        }
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        check(scheme);
        float g = NvQuant.globalScale(weight.abs().max().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat());
        return NvQdq.qdq(weight, GROUP, g, params);
    }

    @Override
    public TunableParams initTunableParams(NDArray weight, QuantScheme scheme) {
        check(scheme);
        requireFinite("weight", weight.toFloatArray());
        return QuantDataType.super.initTunableParams(weight, scheme);
    }

    @Override
    public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                   float[] imatrix, boolean optimizedRtn) {
        QuantScheme scheme = spec.scheme();
        check(scheme);
        GroupLayout layout = GroupLayout.of(spec);
        int rows = layout.rows();
        int cols = layout.cols();
        if (weight.length != rows * cols) {
            throw new IllegalArgumentException(spec.name() + ": weight has " + weight.length + " values, shape needs " + rows * cols);
        }
        requireFinite(spec.name(), weight);
        int numGroups = layout.numGroups();
        int len = layout.groupLength();
        length(spec, "V", v, numGroups * len);
        length(spec, "beta", beta, numGroups);
        length(spec, "imatrix", imatrix, cols);
        float[] grouped = layout.toGroups(weight, 0f);
        float g = NvQuant.globalScale(NvQuant.tensorMax(weight));
        float[] coeff = null;
        if (optimizedRtn) {
            float[] importance = imatrix == null ? null
                    : ImportanceMatrix.grouped(imatrix, grouped, layout, scheme.bits(), scheme.groupSize());
            coeff = NvQuant.searchCoefficients(grouped, numGroups, len, importance);
        } else if (beta != null) {
            coeff = new float[numGroups];
            for (int i = 0; i < numGroups; i++) {
                coeff[i] = NvQuant.clamp(beta[i], 0f, 1f);
            }
        }
        NvQuant.Grouped r = NvQuant.quantize(grouped, numGroups, len, g, optimizedRtn ? null : v, coeff);
        float[] elements = layout.fromGroups(r.elements());
        byte[] codes = new byte[(rows * cols + 1) / 2];
        for (int i = 0; i < elements.length; i++) {
            codes[i >>> 1] |= (byte) (fp4Code(elements[i]) << ((i & 1) * 4));
        }
        // an all-zero tensor has no global scale (every block scale is 0); 1 keeps the payload valid
        FloatElements payload = new FloatElements(FloatElements.ElementFormat.FP4_E2M1, rows, cols, codes,
                FloatElements.ScaleFormat.FP8_E4M3, 1, len, r.blockScales(), g > 0f ? g : 1f);
        return new QuantizedLayer(spec, payload, layout.fromGroups(r.dequantized()), bias == null ? null : bias.clone(), null);
    }

    private static final float[] FP4 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    static int fp4Code(float v) {
        float a = Math.abs(v);
        int best = 0;
        for (int k = 1; k < FP4.length; k++) {
            if (Math.abs(FP4[k] - a) < Math.abs(FP4[best] - a)) {
                best = k;
            }
        }
        return (Float.floatToRawIntBits(v) < 0 ? 8 : 0) | best;
    }

    static void requireFinite(String what, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(what + " holds " + values[i] + " at element " + i,
                        "NVFP4 quantization needs finite weights; check the checkpoint for overflowed or corrupt tensors");
            }
        }
    }

    private static void length(LayerSpec spec, String what, float[] a, int expected) {
        if (a != null && a.length != expected) {
            throw new IllegalArgumentException(spec.name() + ": " + what + " has " + a.length + " values, expected " + expected);
        }
    }
}
