package dev.jround.plugin.gguf;

import ai.djl.ndarray.NDArray;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.GgmlBlocks;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;

import java.util.List;
import java.util.Map;

/**
 * GGUF data types of the reference: the double-quantized k-quants ({@code int_asym_dq}: Q2_K, Q4_K, Q5_K;
 * {@code int_sym_dq}: Q3_K, Q6_K) and the float-zero-point legacy types ({@code int_asym_float_zp}: Q4_1,
 * Q5_1). Quantization produces the GGUF blocks themselves (extra {@code gguf_type}, {@code gguf_blocks}), so the
 * GGUF exporter writes exactly what the pipeline evaluated; the dequantized weights are the blocks' decoding.
 * With tuned parameters (SignRound) the QDQ and the blocks follow the min/max form of docs/algorithms.md ({@link GgufTunedQdq}).
 */
public final class GgufDataType implements QuantDataType {

    public static final String ASYM_DQ = "int_asym_dq";
    public static final String SYM_DQ = "int_sym_dq";
    public static final String ASYM_FLOAT_ZP = "int_asym_float_zp";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATA_TYPE, "gguf", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "GGUF k-quants (int_asym_dq, int_sym_dq) and Q4_1/Q5_1 (int_asym_float_zp): RTN, AutoRound's optimized RTN and SignRound tuning",
                Map.of("data_types", List.of(ASYM_DQ, SYM_DQ, ASYM_FLOAT_ZP)));
    }

    /** The ggml type of a scheme this data type implements, or null. */
    static GgmlType typeOf(QuantScheme s) {
        String dt = s.dataType();
        if (ASYM_DQ.equals(dt) && !s.sym()) {
            return switch (s.bits()) {
                case 2 -> GgmlType.Q2_K;
                case 4 -> GgmlType.Q4_K;
                case 5 -> GgmlType.Q5_K;
                default -> null;
            };
        }
        if (SYM_DQ.equals(dt)) {
            return switch (s.bits()) {
                case 3 -> GgmlType.Q3_K;
                case 6 -> GgmlType.Q6_K;
                default -> null;
            };
        }
        if (ASYM_FLOAT_ZP.equals(dt)) {
            return switch (s.bits()) {
                case 4 -> GgmlType.Q4_1;
                case 5 -> GgmlType.Q5_1;
                default -> null;
            };
        }
        return null;
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return scheme.actBits() >= 16 && typeOf(scheme) != null;
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        long[] shape = weight.getShape().getShape();
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        if (params != null) {
            // SignRound: the min/max QDQ of docs/algorithms.md on the type the row length allows
            GgmlType t = GgufMix.fallback(typeOf(scheme), cols);
            return GgufTunedQdq.qdq(t, weight, tunedGroup(scheme, cols), params.v(), params.alpha(), params.beta(),
                    params.wMin(), params.wMax(), threshold(scheme));
        }
        float[] w = weight.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        float[] deq = encode(typeOf(scheme), w, rows, cols, null, true).dequantized;
        return weight.getManager().create(deq, weight.getShape()).toType(weight.getDataType(), false);
    }

    /** The group length of the tuned parameters' layout (docs/algorithms.md: rows shorter than a group are one group). */
    private static int tunedGroup(QuantScheme scheme, int cols) {
        return new GroupLayout(1, cols, scheme.groupSize()).groupLength();
    }

    /** Scale floor of docs/algorithms.md: 1e-8 for fp32 scales, else 1e-5. */
    private static float threshold(QuantScheme scheme) {
        return "fp32".equals(scheme.scaleDtype()) ? 1e-8f : 1e-5f;
    }

    @Override
    public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                   float[] imatrix, boolean optimizedRtn) {
        int rows = spec.outFeatures();
        int cols = spec.inFeatures();
        Encoded e;
        if (v != null || alpha != null || beta != null) {
            GgmlType t = GgufMix.fallback(typeOf(spec.scheme()), cols);
            int group = tunedGroup(spec.scheme(), cols);
            // V arrives in the grouped layout; the quantized types divide the row, so that is the row-major order
            float[] vRows = v == null || t.isFloat() ? null : v;
            byte[] blocks = GgufTunedQdq.encode(t, weight, rows, cols, group, vRows, alpha, beta, threshold(spec.scheme()));
            e = new Encoded(t, blocks, GgmlQuants.dequantize(t, blocks, rows * cols));
        } else {
            e = encode(typeOf(spec.scheme()), weight, rows, cols, optimizedRtn ? imatrix : null, optimizedRtn);
        }
        return new QuantizedLayer(spec, new GgmlBlocks(e.type.name(), e.blocks), e.dequantized, bias, null);
    }

    private record Encoded(GgmlType type, byte[] blocks, float[] dequantized) {
    }

    /**
     * Encodes with the type (or llama.cpp's fallback for rows that are not whole blocks). Without optimized RTN
     * the reference keeps the llama.cpp-style search without importance (docs/algorithms.md); Q4_1/Q5_1 have no search.
     */
    private static Encoded encode(GgmlType wanted, float[] w, int rows, int cols, float[] imatrix, boolean optimizedRtn) {
        GgmlType t = GgufMix.fallback(wanted, cols);
        byte[] blocks;
        if (t == GgmlType.F16) {
            blocks = GgmlQuants.quantizeReference(t, w);
        } else {
            blocks = AutoRoundGgufRtn.quantize(t, w, rows, cols, optimizedRtn ? imatrix : null);
        }
        float[] deq = GgmlQuants.dequantize(t, blocks, rows * cols);
        return new Encoded(t, blocks, deq);
    }
}
