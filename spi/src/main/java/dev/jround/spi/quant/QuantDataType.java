package dev.jround.spi.quant;

import ai.djl.ndarray.NDArray;
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

    /** Tunable parameter tensors of one layer (shapes as in the AutoRound spec, section 3.1). */
    record TunableParams(NDArray v, NDArray alpha, NDArray beta, NDArray wMin, NDArray wMax) {
    }
}
