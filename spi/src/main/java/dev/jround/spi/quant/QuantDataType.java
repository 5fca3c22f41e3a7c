package dev.jround.spi.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.JroundPlugin;

/**
 * The quantize-dequantize math of one number format. Two faces: a differentiable QDQ on DJL arrays
 * used while tuning, and an exact host-side quantizer that produces the codes exporters write.
 */
public interface QuantDataType extends JroundPlugin {

    /** Whether this plugin implements the scheme's {@code dataType} with its bits / symmetry. */
    boolean supports(QuantScheme scheme);

    /**
     * Differentiable QDQ of a {@code [out, in]} float32 weight during tuning.
     *
     * @param params tunable tensors (rounding offsets V in grouped shape, alpha, beta) or {@code null} for plain RTN
     * @return the fake-quantized weight, same shape as {@code weight}
     */
    NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params);

    /**
     * Exact quantization of a host weight {@code [out*in]}, optionally with tuned parameters
     * (flattened V in grouped layout, alpha and beta per group; any may be {@code null}) and an importance
     * vector (length {@code in}) for optimized RTN.
     */
    QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                            float[] imatrix, boolean optimizedRtn);

    /**
     * Initial tunable parameters for a {@code [out, in]} float32 weight (docs/algorithms.md): V zeros in the grouped
     * shape {@code [numGroups, groupLength]}, alpha and beta ones {@code [numGroups]}, and the per-group extremes
     * {@code wMin = min(0, min group)}, {@code wMax = max(0, max group)} as constants. All arrays are created on
     * the weight's manager, float32, without gradients; the caller marks the ones it tunes.
     */
    default TunableParams initTunableParams(NDArray weight, QuantScheme scheme) {
        Shape s = weight.getShape();
        GroupLayout layout = new GroupLayout((int) s.get(0), (int) s.get(1), scheme.groupSize());
        NDManager m = weight.getManager();
        try (NDArray grouped = layout.toGroups(weight.toType(DataType.FLOAT32, false), 0f)) {
            NDArray wMin = grouped.min(new int[] {1}).minimum(0f);
            NDArray wMax = grouped.max(new int[] {1}).maximum(0f);
            NDArray v = m.zeros(new Shape(layout.numGroups(), layout.groupLength()), DataType.FLOAT32);
            NDArray alpha = m.ones(new Shape(layout.numGroups()), DataType.FLOAT32);
            NDArray beta = m.ones(new Shape(layout.numGroups()), DataType.FLOAT32);
            return new TunableParams(v, alpha, beta, wMin, wMax);
        }
    }

    /** Tunable parameter tensors of one layer (shapes as in the AutoRound spec, section 3.1). */
    record TunableParams(NDArray v, NDArray alpha, NDArray beta, NDArray wMin, NDArray wMax) {
    }
}
