package dev.jround.spi.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Everything a {@link QuantAlgorithm} needs to quantize one block.
 *
 * @param model      the bound model (run the block with {@link CausalLM#blockForward})
 * @param blockIndex which block
 * @param layers     resolved specs of the block's layers that are to be quantized (bits &lt; 16)
 * @param inputs     per-sample block inputs {@code [1, L, H]}: the quantized stream if enabled, else the FP stream
 * @param reference  per-sample full-precision block outputs {@code [1, L, H]} (empty for zero-shot RTN)
 * @param aux        per-sample auxiliary inputs (attention masks)
 * @param lossMask   per-sample {@code [1, L, 1]} float masks (1 = token counts in the loss), or {@code null}
 * @param imatrix    per-layer mean squared input activations (length = in features), possibly empty
 * @param dataTypes  looks up the data type plugin for a scheme
 * @param options    hyper-parameters
 * @param rng        the job's seeded random generator (shared across blocks, as in the reference)
 * @param manager    manager for temporaries; the caller closes it after the block
 */
public record BlockJob(CausalLM model, int blockIndex, List<LayerSpec> layers, List<NDArray> inputs,
                       List<NDArray> reference, List<BlockInputs> aux, List<NDArray> lossMask,
                       Map<String, float[]> imatrix, Function<QuantScheme, QuantDataType> dataTypes,
                       TuningOptions options, Random rng, NDManager manager, ProgressListener progress) {
}
