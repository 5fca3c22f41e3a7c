package dev.jround.plugin.dtype.mx;

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
import dev.jround.spi.tensor.Floats;

import java.util.List;
import java.util.Map;

/**
 * OCP microscaling weights (docs/algorithms.md): a power-of-two (E8M0) scale shared by each group (32 for real
 * kernels) and low-precision elements. {@code mx_fp}: E2M1 (4 bits) or E4M3 (8 bits) elements, the standard
 * scale rounding ({@code mx_fp}) or RCEIL ({@code mx_fp_rceil}); {@code mx_int}: 4- or 8-bit integer elements.
 */
public abstract class MxDataType implements QuantDataType {

    private final String family;
    private final List<String> dataTypes;
    private final String description;

    MxDataType(String family, List<String> dataTypes, String description) {
        this.family = family;
        this.dataTypes = dataTypes;
        this.description = description;
    }

    /** {@code mx_fp}: MXFP4 (E2M1) and MXFP8 (E4M3). */
    public static final class Fp extends MxDataType {
        public Fp() {
            super("mx_fp", List.of("mx_fp", "mx_fp_rceil"),
                    "OCP MX floating point: E2M1 (MXFP4) or E4M3 (MXFP8) elements, E8M0 scale per group, standard or RCEIL");
        }
    }

    /** {@code mx_int}: MXINT4 (and MXINT8). */
    public static final class Int extends MxDataType {
        public Int() {
            super("mx_int", List.of("mx_int"), "MX integer: 4- or 8-bit elements of step 2^-(bits-2), E8M0 scale per group");
        }
    }

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATA_TYPE, family, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                description, Map.of("data_types", dataTypes, "bits", List.of("4", "8")));
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return dataTypes.contains(scheme.dataType()) && MxFormat.of(family, scheme.bits()) != null && scheme.groupSize() >= -1;
    }

    private MxFormat format(QuantScheme scheme) {
        if (!dataTypes.contains(scheme.dataType())) {
            throw new UnsupportedFeatureException("data type '" + scheme.dataType() + "' is not " + family,
                    "the " + family + " plugin handles data_type " + String.join(", ", dataTypes));
        }
        MxFormat f = MxFormat.of(family, scheme.bits());
        if (f == null) {
            throw new InvalidInputException("--bits " + scheme.bits() + " is not supported for data_type " + scheme.dataType(),
                    family + " takes 4 or 8 bits");
        }
        if (scheme.groupSize() < -1) {
            throw new InvalidInputException("--group_size " + scheme.groupSize() + " is invalid",
                    "group_size is -1 (per channel), 0 (per tensor) or positive; MX kernels use 32");
        }
        return f;
    }

    private boolean rceil(QuantScheme scheme) {
        return scheme.dataType().endsWith("_rceil");
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        return MxQdq.qdq(weight, format(scheme), rceil(scheme), scheme.groupSize(), params);
    }

    @Override
    public TunableParams initTunableParams(NDArray weight, QuantScheme scheme) {
        format(scheme);
        FiniteCheck.require("weight", weight.toFloatArray());
        return QuantDataType.super.initTunableParams(weight, scheme);
    }

    @Override
    public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                   float[] imatrix, boolean optimizedRtn) {
        QuantScheme scheme = spec.scheme();
        MxFormat f = format(scheme);
        boolean rceil = rceil(scheme);
        GroupLayout layout = GroupLayout.of(spec);
        int rows = layout.rows();
        int cols = layout.cols();
        if (weight.length != rows * cols) {
            throw new IllegalArgumentException(spec.name() + ": weight has " + weight.length + " values, shape needs " + rows * cols);
        }
        FiniteCheck.require(spec.name(), weight);
        int numGroups = layout.numGroups();
        int len = layout.groupLength();
        FiniteCheck.length(spec, "V", v, numGroups * len);
        FiniteCheck.length(spec, "beta", beta, numGroups);
        FiniteCheck.length(spec, "imatrix", imatrix, cols);
        float[] grouped = layout.toGroups(weight, 0f);
        MxQuant.Grouped r;
        // the reference has no optimized RTN for the RCEIL rounding
        if (optimizedRtn && !rceil) {
            float[] importance = imatrix == null ? null
                    : ImportanceMatrix.grouped(imatrix, grouped, layout, scheme.bits(), scheme.groupSize());
            float[] coeff = MxQuant.searchCoefficients(grouped, numGroups, len, f, importance);
            r = MxQuant.quantize(grouped, numGroups, len, f, false, null, null, coeff, MxQuant.Mode.OPTIMIZED);
        } else {
            r = MxQuant.quantize(grouped, numGroups, len, f, rceil, v, beta, null, MxQuant.Mode.TUNING);
        }
        float[] elements = layout.fromGroups(r.elements());
        float[] scales = new float[numGroups];
        for (int g = 0; g < numGroups; g++) {
            // E8M0 holds integer exponents; a straight-through floor can leave a non-integer one (docs/formats.md)
            scales[g] = Math.scalb(1f, (int) Math.rint(r.exponents()[g]));
        }
        int blockRows = layout.perTensor() ? rows : 1;
        int blockCols = layout.perTensor() ? cols : len;
        FloatElements payload = new FloatElements(f.element, rows, cols, encode(elements, f), FloatElements.ScaleFormat.E8M0,
                blockRows, blockCols, scales, 1f);
        return new QuantizedLayer(spec, payload, layout.fromGroups(r.dequantized()), bias == null ? null : bias.clone(),
                null);
    }

    static byte[] encode(float[] values, MxFormat f) {
        int n = values.length;
        byte[] out = new byte[(int) (((long) n * f.bits + 7) / 8)];
        for (int i = 0; i < n; i++) {
            int code = switch (f.element) {
                case FP4_E2M1 -> Fp4.encode(values[i]);
                case FP8_E4M3 -> Floats.f32ToE4m3(values[i]) & 0xFF;
                default -> (int) Math.rint(values[i] * f.mantissaScale) & ((1 << f.bits) - 1);
            };
            if (f.bits == 8) {
                out[i] = (byte) code;
            } else {
                out[i >>> 1] |= (byte) (code << ((i & 1) * 4));
            }
        }
        return out;
    }
}
