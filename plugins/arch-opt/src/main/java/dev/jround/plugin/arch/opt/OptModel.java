package dev.jround.plugin.arch.opt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.model.ModelTensors;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An OPT decoder bound to its checkpoint. Layer names are always reported as transformers' module paths
 * ({@code model.decoder.layers.3.self_attn.q_proj}); checkpoints saved from the bare {@code OPTModel}
 * (tensor names without {@code model.}) are read too.
 *
 * <p>The learned position embeddings depend on the padding mask, which {@link #embed} does not receive, so they
 * are added at the start of block 0. Every linear layer still sees exactly the input it sees in transformers.
 */
final class OptModel implements CausalLM {

    private static final int POSITION_OFFSET = 2;

    private final ModelConfig config;
    private final TensorStore store;
    private final NDManager root;
    private final DataType computeType;
    private final boolean bf16;
    private final String storePrefix;
    private final int hidden;
    private final int heads;
    private final int ffn;
    private final int layers;
    private final int vocab;
    private final int projDim;
    private final int maxPositions;
    private final boolean normBefore;
    private final boolean finalNorm;
    private final boolean bias;
    private final ModelTensors.BlockWeights blockWeights;
    private final Map<String, NDArray> shared = new HashMap<>();

    OptModel(ModelConfig c, TensorStore store, NDManager root, DataType computeType) {
        if (computeType != DataType.FLOAT32 && computeType != DataType.BFLOAT16) {
            throw new InvalidInputException("compute type " + computeType + " is not supported", "use float32 or bfloat16");
        }
        String act = c.getString("activation_function", "relu");
        if (!act.equals("relu")) {
            throw new UnsupportedFeatureException(c.directory() + "/config.json has activation_function '" + act + "'",
                    "the opt plugin runs relu MLPs (every released OPT model)");
        }
        this.config = c;
        this.store = store;
        this.root = root;
        this.blockWeights = new ModelTensors.BlockWeights(root, computeType);
        this.computeType = computeType;
        this.bf16 = computeType == DataType.BFLOAT16;
        if (store.contains("model.decoder.embed_tokens.weight")) {
            storePrefix = "model.";
        } else if (store.contains("decoder.embed_tokens.weight")) {
            storePrefix = "";
        } else {
            throw new CorruptInputException("the checkpoint lacks 'model.decoder.embed_tokens.weight'",
                    "an OPT checkpoint stores its token embedding under that name (or without 'model.')");
        }
        hidden = c.requireInt("hidden_size");
        heads = c.requireInt("num_attention_heads");
        ffn = c.requireInt("ffn_dim");
        layers = c.requireInt("num_hidden_layers");
        vocab = c.requireInt("vocab_size");
        projDim = c.getInt("word_embed_proj_dim", hidden);
        maxPositions = c.getInt("max_position_embeddings", 2048);
        normBefore = c.getBoolean("do_layer_norm_before", true);
        finalNorm = normBefore && !c.getBoolean("_remove_final_layer_norm", false);
        bias = c.getBoolean("enable_bias", true);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int hiddenSize() {
        return hidden;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxPositions() {
        return maxPositions;
    }

    @Override
    public DataType computeType() {
        return computeType;
    }

    @Override
    public int numBlocks() {
        return layers;
    }

    @Override
    public String blockName(int i) {
        return "model.decoder.layers." + i;
    }

    @Override
    public List<LinearInfo> blockLinears(int i) {
        String p = blockName(i);
        return List.of(
                new LinearInfo(p + ".self_attn.q_proj", hidden, hidden, bias),
                new LinearInfo(p + ".self_attn.k_proj", hidden, hidden, bias),
                new LinearInfo(p + ".self_attn.v_proj", hidden, hidden, bias),
                new LinearInfo(p + ".self_attn.out_proj", hidden, hidden, bias),
                new LinearInfo(p + ".fc1", hidden, ffn, bias),
                new LinearInfo(p + ".fc2", ffn, hidden, bias));
    }

    @Override
    public LinearInfo lmHead() {
        return new LinearInfo("lm_head", projDim, vocab, false);
    }

    @Override
    public boolean tiedEmbeddings() {
        return !store.contains("lm_head.weight") || config.getBoolean("tie_word_embeddings", true);
    }

    @Override
    public String embeddingWeightName() {
        return "model.decoder.embed_tokens.weight";
    }

    @Override
    public NDArray embed(NDManager manager, NDArray inputIds) {
        NDArray table = sharedWeight("model.decoder.embed_tokens.weight");
        // weights are loaded before the scope opens: the scope closes every array created inside it
        NDArray projectIn = projDim != hidden ? sharedWeight("model.decoder.project_in.weight") : null;
        NDArray out;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray ids = inputIds.toType(DataType.INT64, false);
            out = table.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
            if (projectIn != null) {
                out = lowp(Linear.linear(out, projectIn).singletonOrThrow());
            }
            NDScope.unregister(out);
        }
        out.attach(manager);
        return out;
    }

    @Override
    public NDArray blockForward(int i, NDArray input, BlockInputs inputs, Map<String, NDArray> linearWeights,
                                BiConsumer<String, NDArray> observer) {
        Map<String, NDArray> w = weights(i);
        NDArray positionTable = i == 0 ? sharedWeight("model.decoder.embed_positions.weight") : null;
        String p = blockName(i) + ".";
        return ModelTensors.scopedBlockForward(input, observer, watch -> {
            long batch = input.getShape().get(0);
            long seq = input.getShape().get(1);
            NDArray mask = inputs == null ? null : inputs.attentionMask();
            NDArray h = input;
            if (positionTable != null) {
                h = lowp(h.add(positionEmbeddings(input.getManager(), positionTable, mask, batch, seq)));
            }
            NDArray bias = ModelTensors.causalBias(input.getManager(), mask, seq, 0);

            NDArray x = normBefore ? layerNorm(h, w, p + "self_attn_layer_norm") : h;
            x = lowp(h.add(attention(x, p, w, linearWeights, watch, bias, batch, seq)));
            if (!normBefore) {
                x = layerNorm(x, w, p + "self_attn_layer_norm");
            }
            NDArray y = normBefore ? layerNorm(x, w, p + "final_layer_norm") : x;
            y = Activation.relu(linear(y, p + "fc1", w, linearWeights, watch));
            y = lowp(x.add(linear(y, p + "fc2", w, linearWeights, watch)));
            if (!normBefore) {
                y = layerNorm(y, w, p + "final_layer_norm");
            }
            return y;
        });
    }

    /** transformers' OPT positions: running count of real tokens minus one (padding -1), plus the offset 2. */
    private NDArray positionEmbeddings(NDManager m, NDArray table, NDArray mask, long batch, long seq) {
        NDArray ids;
        if (mask == null) {
            ids = m.arange(0L, seq, 1L, DataType.INT64).reshape(1, seq).repeat(0, batch);
        } else {
            NDArray real = mask.toType(DataType.INT64, false);
            ids = real.cumSum(1).mul(real).sub(1);
        }
        ids = ids.add(POSITION_OFFSET);
        return table.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    private NDArray attention(NDArray x, String p, Map<String, NDArray> w, Map<String, NDArray> replaced,
                              BiConsumer<String, NDArray> watch, NDArray bias, long batch, long seq) {
        int d = hidden / heads;
        NDArray qRaw = linear(x, p + "self_attn.q_proj", w, replaced, watch);
        // An engine-owned scalar: DJL's mul(Number) wraps the number in a tensor over a Java buffer that autograd
        // keeps for backward after the GC may have freed it (tuning then reads foreign memory).
        NDArray q = lowp(qRaw.mul(qRaw.getManager().full(new Shape(), (float) Math.pow(d, -0.5), DataType.FLOAT32)));
        NDArray k = linear(x, p + "self_attn.k_proj", w, replaced, watch);
        NDArray v = linear(x, p + "self_attn.v_proj", w, replaced, watch);
        q = q.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3);
        k = k.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3);
        v = v.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3);
        NDArray scores = lowp(q.matMul(k.transpose(0, 1, 3, 2)));
        NDArray probs = lowp(scores.add(bias).softmax(-1));
        NDArray ctx = lowp(probs.matMul(v)).transpose(0, 2, 1, 3).reshape(batch, seq, hidden);
        return linear(ctx, p + "self_attn.out_proj", w, replaced, watch);
    }

    private NDArray layerNorm(NDArray x, Map<String, NDArray> w, String name) {
        return layerNorm(x, w.get(name + ".weight"), w.get(name + ".bias"));
    }

    private NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta) {
        return lowp(LayerNorm.layerNorm(x, new Shape(x.getShape().get(x.getShape().dimension() - 1)), gamma, beta, 1e-5f)
                .singletonOrThrow());
    }

    private NDArray linear(NDArray x, String name, Map<String, NDArray> w, Map<String, NDArray> replaced,
                           BiConsumer<String, NDArray> watch) {
        if (watch != null) {
            watch.accept(name, x);
        }
        NDArray weight = replaced == null ? null : replaced.get(name);
        weight = weight == null ? w.get(name + ".weight") : asCompute(weight);
        return lowp(Linear.linear(x, weight, w.get(name + ".bias")).singletonOrThrow());
    }

    /** In bf16 mode, rounds to bfloat16 (values kept in float32, see ModelTensors#toNDArray); else unchanged. */
    private NDArray lowp(NDArray x) {
        return bf16 ? ModelTensors.roundToBfloat16(x) : x;
    }

    private NDArray asCompute(NDArray weight) {
        return lowp(weight.getDataType() == DataType.FLOAT32 ? weight : weight.toType(DataType.FLOAT32, false));
    }

    @Override
    public NDArray linearWeight(NDManager manager, String name) {
        String tensor = name.equals("lm_head") ? (store.contains("lm_head.weight") ? "lm_head.weight" : embeddingWeightName())
                : name + ".weight";
        return ModelTensors.toNDArray(manager, require(tensor), DataType.FLOAT32);
    }

    @Override
    public NDArray linearBias(NDManager manager, String name) {
        String tensor = storeName(name + ".bias");
        return store.contains(tensor) ? ModelTensors.toNDArray(manager, store.get(tensor), DataType.FLOAT32) : null;
    }

    @Override
    public boolean exposesHeadInput() {
        return true;
    }

    @Override
    public NDArray headInput(NDArray hiddenStates) {
        NDManager target = hiddenStates.getManager();
        NDArray gamma = finalNorm ? sharedWeight("model.decoder.final_layer_norm.weight") : null;
        NDArray beta = finalNorm ? sharedWeight("model.decoder.final_layer_norm.bias") : null;
        NDArray projectOut = projDim != hidden ? sharedWeight("model.decoder.project_out.weight") : null;
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray h = finalNorm ? layerNorm(hiddenStates, gamma, beta) : hiddenStates;
            result = projectOut != null ? lowp(Linear.linear(h, projectOut).singletonOrThrow()) : h.duplicate();
            NDScope.unregister(result);
        }
        result.attach(target);
        return result;
    }

    @Override
    public NDArray head(NDArray hiddenStates, NDArray lmHeadWeight) {
        NDManager target = hiddenStates.getManager();
        NDArray weight = lmHeadWeight != null ? null : (store.contains("lm_head.weight")
                ? sharedWeight("lm_head.weight") : sharedWeight(embeddingWeightName()));
        NDArray gamma = finalNorm ? sharedWeight("model.decoder.final_layer_norm.weight") : null;
        NDArray beta = finalNorm ? sharedWeight("model.decoder.final_layer_norm.bias") : null;
        NDArray projectOut = projDim != hidden ? sharedWeight("model.decoder.project_out.weight") : null;
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray h = finalNorm ? layerNorm(hiddenStates, gamma, beta) : hiddenStates;
            if (projectOut != null) {
                h = lowp(Linear.linear(h, projectOut).singletonOrThrow());
            }
            NDArray w = weight != null ? weight : asCompute(lmHeadWeight);
            result = lowp(Linear.linear(h, w).singletonOrThrow());
            NDScope.unregister(result);
        }
        result.attach(target);
        return result;
    }

    /** Checkpoint name of a canonical ({@code model.}-prefixed) tensor name. */
    private String storeName(String canonical) {
        return canonical.startsWith("model.") ? storePrefix + canonical.substring("model.".length()) : canonical;
    }

    private HostTensor require(String canonical) {
        String name = storeName(canonical);
        if (!store.contains(name)) {
            throw new CorruptInputException("the checkpoint lacks tensor '" + name + "'",
                    "an OPT checkpoint with " + layers + " layers and this config needs it");
        }
        return store.get(name);
    }

    private synchronized NDArray sharedWeight(String canonical) {
        return shared.computeIfAbsent(canonical, n -> ModelTensors.toNDArray(root, require(n), computeType));
    }

    private synchronized Map<String, NDArray> weights(int i) {
        if (i < 0 || i >= layers) {
            throw new IndexOutOfBoundsException("block " + i + " of " + layers);
        }
        return blockWeights.get(i, () -> blockTensorNames(i), this::require);
    }

    /** Full checkpoint names of the tensors block {@code i} computes with. */
    private List<String> blockTensorNames(int i) {
        String p = blockName(i) + ".";
        List<String> names = new ArrayList<>(List.of(p + "self_attn_layer_norm.weight", p + "self_attn_layer_norm.bias",
                p + "final_layer_norm.weight", p + "final_layer_norm.bias"));
        for (LinearInfo l : blockLinears(i)) {
            names.add(l.weightName());
            if (bias) {
                names.add(l.biasName());
            }
        }
        return names;
    }

    @Override
    public synchronized void releaseBlock(int i) {
        blockWeights.release(i);
    }

    @Override
    public synchronized void close() {
        blockWeights.close();
        shared.clear();
        root.close();
    }
}
