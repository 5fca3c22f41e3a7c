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
 * What an export session knows up front. A final class with a builder rather than a record, so a minor SPI
 * release can add a field without breaking exporters or the tools that construct a context (see docs/plugins.md).
 *
 * <ul>
 * <li>{@code format} the requested format string (e.g. {@code auto_round:auto_gptq}, {@code gguf:q4_k_m})</li>
 * <li>{@code outputDir} directory to write into; it is the kernel's {@code <out>.partial} and is renamed when complete</li>
 * <li>{@code config} the source model's config.json</li>
 * <li>{@code sourceDir} source model directory (tokenizer, generation config and other files are copied from here)</li>
 * <li>{@code source} the source checkpoint's tensors</li>
 * <li>{@code layers} resolved specs of every linear layer (quantized or not), in model order</li>
 * <li>{@code blockPrefixes} checkpoint prefixes of the quantized block groups, e.g. {@code [model.layers]}</li>
 * <li>{@code options} the run's settings for quantization_config: iters, lr, nsamples, seqlen, dataset, ...</li>
 * <li>{@code maxShardBytes} safetensors shard limit</li>
 * <li>{@code layout} the architecture's tensor roles and facts, or {@code null} when its plugin declares none</li>
 * <li>{@code tokenizer} the run's tokenizer (the one calibration used), or {@code null} when none is installed or
 *     present; open for the session's life, closed by the kernel. Exporters that store tokenizer facts (the chat
 *     template) read them here rather than re-reading files with their own precedence.</li>
 * </ul>
 */
public final class ExportContext {

    private final String format;
    private final Path outputDir;
    private final ModelConfig config;
    private final Path sourceDir;
    private final TensorStore source;
    private final List<LayerSpec> layers;
    private final List<String> blockPrefixes;
    private final Map<String, Object> options;
    private final long maxShardBytes;
    private final TensorLayout layout;
    private final Tokenizer tokenizer;

    private ExportContext(Builder b) {
        format = b.format;
        outputDir = b.outputDir;
        config = b.config;
        sourceDir = b.sourceDir;
        source = b.source;
        layers = b.layers;
        blockPrefixes = b.blockPrefixes;
        options = b.options;
        maxShardBytes = b.maxShardBytes;
        layout = b.layout;
        tokenizer = b.tokenizer;
    }

    /**
     * A builder; lists and options start empty, {@code maxShardBytes} at {@link Long#MAX_VALUE}, everything else
     * {@code null} (no layout: exporters keep checkpoint names; no tokenizer: they read files from {@code sourceDir}).
     */
    public static Builder builder() {
        return new Builder();
    }

    public String format() { return format; }
    public Path outputDir() { return outputDir; }
    public ModelConfig config() { return config; }
    public Path sourceDir() { return sourceDir; }
    public TensorStore source() { return source; }
    public List<LayerSpec> layers() { return layers; }
    public List<String> blockPrefixes() { return blockPrefixes; }
    public Map<String, Object> options() { return options; }
    public long maxShardBytes() { return maxShardBytes; }
    public TensorLayout layout() { return layout; }
    public Tokenizer tokenizer() { return tokenizer; }

    /** Builds an {@link ExportContext}. */
    public static final class Builder {
        private String format;
        private Path outputDir;
        private ModelConfig config;
        private Path sourceDir;
        private TensorStore source;
        private List<LayerSpec> layers = List.of();
        private List<String> blockPrefixes = List.of();
        private Map<String, Object> options = Map.of();
        private long maxShardBytes = Long.MAX_VALUE;
        private TensorLayout layout;
        private Tokenizer tokenizer;

        private Builder() {
        }

        public Builder format(String v) { format = v; return this; }
        public Builder outputDir(Path v) { outputDir = v; return this; }
        public Builder config(ModelConfig v) { config = v; return this; }
        public Builder sourceDir(Path v) { sourceDir = v; return this; }
        public Builder source(TensorStore v) { source = v; return this; }
        public Builder layers(List<LayerSpec> v) { layers = v; return this; }
        public Builder blockPrefixes(List<String> v) { blockPrefixes = v; return this; }
        public Builder options(Map<String, Object> v) { options = v; return this; }
        public Builder maxShardBytes(long v) { maxShardBytes = v; return this; }
        public Builder layout(TensorLayout v) { layout = v; return this; }
        public Builder tokenizer(Tokenizer v) { tokenizer = v; return this; }

        public ExportContext build() {
            return new ExportContext(this);
        }
    }
}
