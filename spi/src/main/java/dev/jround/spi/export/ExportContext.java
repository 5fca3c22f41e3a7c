package dev.jround.spi.export;

import dev.jround.spi.data.Tokenizer;
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
 * @param tokenizer    the run's tokenizer (the one calibration used), or {@code null} when none is installed or present;
 *                     open for the session's life, closed by the kernel. Exporters that store tokenizer facts (the
 *                     chat template) read them here rather than re-reading files with their own precedence.
 */
public record ExportContext(String format, Path outputDir, ModelConfig config, Path sourceDir, TensorStore source,
                            List<LayerSpec> layers, List<String> blockPrefixes, Map<String, Object> options,
                            long maxShardBytes, TensorLayout layout, Tokenizer tokenizer) {

    /** A context without a tokenizer (exporters then read tokenizer files from {@code sourceDir}). */
    public ExportContext(String format, Path outputDir, ModelConfig config, Path sourceDir, TensorStore source,
                         List<LayerSpec> layers, List<String> blockPrefixes, Map<String, Object> options,
                         long maxShardBytes, TensorLayout layout) {
        this(format, outputDir, config, sourceDir, source, layers, blockPrefixes, options, maxShardBytes, layout, null);
    }

    /** A context without a tensor layout (for exporters that keep checkpoint names). */
    public ExportContext(String format, Path outputDir, ModelConfig config, Path sourceDir, TensorStore source,
                         List<LayerSpec> layers, List<String> blockPrefixes, Map<String, Object> options,
                         long maxShardBytes) {
        this(format, outputDir, config, sourceDir, source, layers, blockPrefixes, options, maxShardBytes, null, null);
    }
}
