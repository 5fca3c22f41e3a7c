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
 * Everything a {@link QuantAlgorithm} needs to quantize one block. A final class with a builder rather than
 * a record, so a minor SPI release can add a field without breaking plugins (see docs/plugins.md).
 *
 * <ul>
 * <li>{@code model} the bound model (run the block with {@link CausalLM#blockForward})</li>
 * <li>{@code blockIndex} which block</li>
 * <li>{@code layers} resolved specs of the block's layers that are to be quantized (bits &lt; 16)</li>
 * <li>{@code inputs} per-sample block inputs {@code [1, L, H]}: the quantized stream if enabled, else the FP stream</li>
 * <li>{@code reference} per-sample full-precision block outputs {@code [1, L, H]} (empty for zero-shot RTN)</li>
 * <li>{@code aux} per-sample auxiliary inputs (attention masks)</li>
 * <li>{@code lossMask} per-sample {@code [1, L, 1]} float masks (1 = token counts in the loss), or {@code null}</li>
 * <li>{@code imatrix} per-layer mean squared input activations (length = in features), possibly empty</li>
 * <li>{@code dataTypes} looks up the data type plugin for a scheme</li>
 * <li>{@code options} hyper-parameters</li>
 * <li>{@code rng} the job's seeded random generator (shared across blocks, as in the reference)</li>
 * <li>{@code manager} manager for temporaries; the caller closes it after the block</li>
 * <li>{@code progress} receives per-iteration progress</li>
 * <li>{@code referenceInputs} single-layer jobs only: per-sample full-precision layer inputs, from which the target
 *     is computed with the checkpoint weights when {@code inputs} is the quantized stream (empty otherwise)</li>
 * </ul>
 *
 * <p>A job with {@code blockIndex < 0} is a single-layer job for a layer outside the blocks (the lm_head, given only
 * to algorithms that declare {@link QuantAlgorithm#tunesSingleLayers()}): {@code layers} holds that one layer,
 * {@code inputs} its per-sample inputs {@code [1, L, in]} (the quantized stream when enabled, else full precision),
 * {@code reference} is empty (the layer's outputs are {@code [1, L, out]}, too large to cache for a vocabulary),
 * and the target is the layer with its checkpoint weight applied to {@code referenceInputs}, or to {@code inputs}
 * when that is empty.
 */
public final class BlockJob {

    private final CausalLM model;
    private final int blockIndex;
    private final List<LayerSpec> layers;
    private final List<NDArray> inputs;
    private final List<NDArray> reference;
    private final List<BlockInputs> aux;
    private final List<NDArray> lossMask;
    private final Map<String, float[]> imatrix;
    private final Function<QuantScheme, QuantDataType> dataTypes;
    private final TuningOptions options;
    private final Random rng;
    private final NDManager manager;
    private final ProgressListener progress;
    private final List<NDArray> referenceInputs;

    private BlockJob(Builder b) {
        model = b.model;
        blockIndex = b.blockIndex;
        layers = b.layers;
        inputs = b.inputs;
        reference = b.reference;
        aux = b.aux;
        lossMask = b.lossMask;
        imatrix = b.imatrix;
        dataTypes = b.dataTypes;
        options = b.options;
        rng = b.rng;
        manager = b.manager;
        progress = b.progress;
        referenceInputs = b.referenceInputs;
    }

    /**
     * A builder; lists and the imatrix start empty, {@code lossMask}, {@code model}, {@code dataTypes},
     * {@code rng} and {@code manager} start {@code null}, options at {@link TuningOptions#defaults()},
     * progress at {@link ProgressListener#NONE}.
     */
    public static Builder builder() {
        return new Builder();
    }

    public CausalLM model() { return model; }
    public int blockIndex() { return blockIndex; }
    public List<LayerSpec> layers() { return layers; }
    public List<NDArray> inputs() { return inputs; }
    public List<NDArray> reference() { return reference; }
    public List<BlockInputs> aux() { return aux; }
    public List<NDArray> lossMask() { return lossMask; }
    public Map<String, float[]> imatrix() { return imatrix; }
    public Function<QuantScheme, QuantDataType> dataTypes() { return dataTypes; }
    public TuningOptions options() { return options; }
    public Random rng() { return rng; }
    public NDManager manager() { return manager; }
    public ProgressListener progress() { return progress; }
    /** Single-layer jobs: full-precision inputs the target is computed from; empty for block jobs. */
    public List<NDArray> referenceInputs() { return referenceInputs; }

    /** Builds a {@link BlockJob}. */
    public static final class Builder {
        private CausalLM model;
        private int blockIndex;
        private List<LayerSpec> layers = List.of();
        private List<NDArray> inputs = List.of();
        private List<NDArray> reference = List.of();
        private List<BlockInputs> aux = List.of();
        private List<NDArray> lossMask;
        private Map<String, float[]> imatrix = Map.of();
        private Function<QuantScheme, QuantDataType> dataTypes;
        private TuningOptions options = TuningOptions.defaults();
        private Random rng;
        private NDManager manager;
        private ProgressListener progress = ProgressListener.NONE;
        private List<NDArray> referenceInputs = List.of();

        private Builder() {
        }

        public Builder model(CausalLM v) { model = v; return this; }
        public Builder blockIndex(int v) { blockIndex = v; return this; }
        public Builder layers(List<LayerSpec> v) { layers = v; return this; }
        public Builder inputs(List<NDArray> v) { inputs = v; return this; }
        public Builder reference(List<NDArray> v) { reference = v; return this; }
        public Builder aux(List<BlockInputs> v) { aux = v; return this; }
        public Builder lossMask(List<NDArray> v) { lossMask = v; return this; }
        public Builder imatrix(Map<String, float[]> v) { imatrix = v; return this; }
        public Builder dataTypes(Function<QuantScheme, QuantDataType> v) { dataTypes = v; return this; }
        public Builder options(TuningOptions v) { options = v; return this; }
        public Builder rng(Random v) { rng = v; return this; }
        public Builder manager(NDManager v) { manager = v; return this; }
        public Builder progress(ProgressListener v) { progress = v; return this; }
        public Builder referenceInputs(List<NDArray> v) { referenceInputs = v; return this; }

        public BlockJob build() {
            return new BlockJob(this);
        }
    }
}
