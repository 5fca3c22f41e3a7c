package dev.jround.plugin.dtype.integer;

import dev.jround.lib.quant.ImportanceMatrix;
import ai.djl.ndarray.NDArray;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;

import java.util.List;
import java.util.Map;

/**
 * Integer weights, symmetric full range (signed scale, zero point {@code 2^(bits-1)}) or asymmetric (rounded
 * zero point), 1-8 bits, per-tensor, per-channel or grouped along the input dimension.
 */
public final class IntDataType implements QuantDataType {

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATA_TYPE, "int", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "integer weights, symmetric full-range or asymmetric, 2-8 bits, any group size",
                Map.of("data_types", List.of("int"), "bits", List.of("2", "3", "4", "5", "6", "7", "8")));
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return "int".equals(scheme.dataType()) && scheme.bits() >= 1 && scheme.bits() <= 8 && scheme.groupSize() >= -1;
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        check(scheme);
        return IntQdq.qdq(weight, scheme, params);
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
        int numGroups = layout.numGroups();
        int len = layout.groupLength();
        checkLength(spec, "V", v, numGroups * len);
        checkLength(spec, "alpha", alpha, numGroups);
        checkLength(spec, "beta", beta, numGroups);
        checkLength(spec, "imatrix", imatrix, cols);
        ScaleDtype sd = ScaleDtype.of(scheme.scaleDtype());
        float[] grouped = layout.toGroups(weight, 0f);
        IntQuant.Grouped r;
        boolean searched = optimizedRtn && scheme.sym();
        if (searched) {
            float[] importance = imatrix == null ? null
                    : ImportanceMatrix.grouped(imatrix, grouped, layout, scheme.bits(), scheme.groupSize());
            r = IntQuant.optimizedSym(grouped, numGroups, len, scheme.bits(), importance);
        } else {
            r = IntQuant.minMax(grouped, numGroups, len, scheme.bits(), scheme.sym(), sd, v, alpha, beta);
        }
        int zeroOffset = scheme.sym() ? 1 << (scheme.bits() - 1) : 0;
        int[] codes = new int[rows * cols];
        float[] levels = layout.fromGroups(r.levels());
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (int) levels[i] + zeroOffset;
        }
        // one scale/zero per (row, group along the row); per-tensor repeats its single group on every row
        int perRow = layout.perTensor() ? 1 : layout.groupsPerRow();
        float[] scales = new float[rows * perRow];
        int[] zeros = new int[rows * perRow];
        for (int i = 0; i < scales.length; i++) {
            int g = layout.perTensor() ? 0 : i;
            // the optimized search keeps float32 scales while forming levels; storage rounds them (docs/algorithms.md)
            scales[i] = searched ? sd.round(r.scales()[g]) : r.scales()[g];
            zeros[i] = (int) r.zeros()[g];
        }
        int groupSize = layout.perTensor() ? cols : len;
        float[] deq = new float[rows * cols];
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < cols; c++) {
                int gi = row * perRow + c / groupSize;
                int i = row * cols + c;
                // Symmetric: scale times the signed level as rounded (a level of -0.0 keeps its sign, as the
                // reference's s * round(x / s) does), so fake weights match the reference bit for bit.
                deq[i] = scheme.sym() ? scales[gi] * levels[i] : scales[gi] * (float) (codes[i] - zeros[gi]);
            }
        }
        return QuantizedLayer.ofGrid(spec, groupSize, codes, scales, zeros, deq, bias == null ? null : bias.clone());
    }

    private static void check(QuantScheme scheme) {
        if (!"int".equals(scheme.dataType())) {
            throw new UnsupportedFeatureException("data type '" + scheme.dataType() + "' is not integer", "the int plugin handles data_type int");
        }
        if (scheme.bits() < 1 || scheme.bits() > 8) {
            throw new InvalidInputException("--bits " + scheme.bits() + " is not supported for data_type int", "int weights take 1 to 8 bits (exporters write 2, 3, 4, 8)");
        }
        if (scheme.groupSize() < -1) {
            throw new InvalidInputException("--group_size " + scheme.groupSize() + " is invalid", "group_size is -1 (per channel), 0 (per tensor) or positive");
        }
    }

    private static void checkLength(LayerSpec spec, String what, float[] a, int expected) {
        if (a != null && a.length != expected) {
            throw new IllegalArgumentException(spec.name() + ": " + what + " has " + a.length + " values, expected " + expected);
        }
    }
}
