package dev.jround.spi.export;

import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What an export session knows up front.
 *
 * @param format       the requested format string (e.g. {@code auto_round:auto_gptq}, {@code gguf:q4_k_m})
 * @param outputDir    directory to write into; it is the kernel's {@code <out>.partial} and is renamed when complete
 * @param config       the source model's config.json
 * @param sourceDir    source model directory (tokenizer, generation config and other files are copied from here)
 * @param source       the source checkpoint's tensors
 * @param layers       resolved specs of every linear layer (quantized or not), in model order
 * @param blockPrefixes checkpoint prefixes of the quantized block groups, e.g. {@code [model.layers]}
 * @param options      the run's settings for quantization_config: iters, lr, nsamples, seqlen, dataset, ...
 * @param maxShardBytes safetensors shard limit
 * @param layout       the architecture's tensor roles and facts, or {@code null} when its plugin declares none
 */
public record ExportContext(String format, Path outputDir, ModelConfig config, Path sourceDir, TensorStore source,
                            List<LayerSpec> layers, List<String> blockPrefixes, Map<String, Object> options,
                            long maxShardBytes, TensorLayout layout) {

    /** A context without a tensor layout (for exporters that keep checkpoint names). */
    public ExportContext(String format, Path outputDir, ModelConfig config, Path sourceDir, TensorStore source,
                         List<LayerSpec> layers, List<String> blockPrefixes, Map<String, Object> options,
                         long maxShardBytes) {
        this(format, outputDir, config, sourceDir, source, layers, blockPrefixes, options, maxShardBytes, null);
    }
}
