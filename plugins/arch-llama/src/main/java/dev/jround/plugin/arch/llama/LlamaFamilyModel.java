package dev.jround.plugin.arch.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.model.ModelTensors;
import dev.jround.spi.tensor.TensorStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A Llama-family decoder bound to its checkpoint. Weights are read from the (memory-mapped) store the first
 * time a block runs, cast to the compute type and cached per block until {@link #releaseBlock}.
 */
final class LlamaFamilyModel implements CausalLM {

    private static final String[] ATTENTION = {"q_proj", "k_proj", "v_proj", "o_proj"};
    private static final String[] MLP = {"gate_proj", "up_proj", "down_proj"};

    private final LlamaSettings s;
    private final ModelConfig config;
    private final TensorStore store;
    private final NDManager root;
    private final DataType computeType;
    private final boolean bf16;
    private final boolean tied;
    private final ModelTensors.BlockWeights blockWeights;
    private final float[] inverseFrequencies;
    private NDArray embedding;
    private NDArray finalNorm;
    private NDArray lmHead;

    LlamaFamilyModel(LlamaSettings settings, ModelConfig config, TensorStore store, NDManager root, DataType computeType) {
        if (computeType != DataType.FLOAT32 && computeType != DataType.BFLOAT16) {
            throw new InvalidInputException("compute type " + computeType + " is not supported", "use float32 or bfloat16");
        }
        this.s = settings;
        this.config = config;
        this.store = store;
        this.root = root;
        this.blockWeights = new ModelTensors.BlockWeights(root, computeType);
        this.computeType = computeType;
        this.bf16 = computeType == DataType.BFLOAT16;
        boolean hasHead = store.contains("lm_head.weight");
        this.tied = settings.tieEmbeddings() != null ? settings.tieEmbeddings() || !hasHead : !hasHead;
        if (!store.contains(embeddingWeightName())) {
            throw new CorruptInputException("the checkpoint lacks '" + embeddingWeightName() + "'",
                    "a " + settings.modelType() + " checkpoint stores the token embedding under that name");
        }
        this.inverseFrequencies = Rope.inverseFrequencies(settings.rope(), settings.headDim());
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int hiddenSize() {
        return s.hiddenSize();
    }

    @Override
    public int vocabSize() {
        return s.vocabSize();
    }

    @Override
    public int maxPositions() {
        return s.maxPositions();
    }

    @Override
    public DataType computeType() {
        return computeType;
    }

    @Override
    public int numBlocks() {
        return s.numLayers();
    }

    @Override
    public String blockName(int i) {
        return "model.layers." + i;
    }

    @Override
    public List<LinearInfo> blockLinears(int i) {
        String p = blockName(i);
        int h = s.hiddenSize();
        int q = s.numHeads() * s.headDim();
        int kv = s.numKvHeads() * s.headDim();
        int ff = s.intermediateSize();
        List<LinearInfo> r = new ArrayList<>(7);
        r.add(new LinearInfo(p + ".self_attn.q_proj", h, q, s.attentionBias()));
        r.add(new LinearInfo(p + ".self_attn.k_proj", h, kv, s.attentionBias()));
        r.add(new LinearInfo(p + ".self_attn.v_proj", h, kv, s.attentionBias()));
        r.add(new LinearInfo(p + ".self_attn.o_proj", q, h, s.outputBias()));
        r.add(new LinearInfo(p + ".mlp.gate_proj", h, ff, s.mlpBias()));
        r.add(new LinearInfo(p + ".mlp.up_proj", h, ff, s.mlpBias()));
        r.add(new LinearInfo(p + ".mlp.down_proj", ff, h, s.mlpBias()));
        return r;
    }

    @Override
    public LinearInfo lmHead() {
        return new LinearInfo("lm_head", s.hiddenSize(), s.vocabSize(), false);
    }

    @Override
    public boolean tiedEmbeddings() {
        return tied;
    }

    @Override
    public String embeddingWeightName() {
        return "model.embed_tokens.weight";
    }

    @Override
    public NDArray embed(NDManager manager, NDArray inputIds) {
        NDArray table = embeddingTable();
        NDArray ids = inputIds.getDataType() == DataType.INT64 ? inputIds : inputIds.toType(DataType.INT64, false);
        NDArray out = table.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
        if (ids != inputIds) {
            ids.close();
        }
        out.attach(manager);
        return out;
    }

    @Override
    public NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> linearWeights,
                                BiConsumer<String, NDArray> observer) {
        Map<String, NDArray> w = weights(i);
        String p = blockName(i) + ".";
        return ModelTensors.scopedBlockForward(hidden, observer, watch -> {
            long batch = hidden.getShape().get(0);
            long seq = hidden.getShape().get(1);
            NDArray mask = inputs == null ? null : inputs.attentionMask();
            NDManager m = hidden.getManager();
            NDArray positions = ModelTensors.positions(m, mask, batch, seq);
            NDArray bias = ModelTensors.causalBias(m, mask, seq, s.slidingWindowPerLayer()[i]);
            NDArray[] cosSin = rotary(m, positions);

            NDArray x = rmsNorm(hidden, w.get(p + "input_layernorm.weight"));
            NDArray attn = attention(x, p, w, linearWeights, watch, cosSin, bias, batch, seq);
            NDArray h = lowp(hidden.add(attn));
            NDArray y = rmsNorm(h, w.get(p + "post_attention_layernorm.weight"));
            NDArray gate = linear(y, p + "mlp.gate_proj", w, linearWeights, watch);
            NDArray up = linear(y, p + "mlp.up_proj", w, linearWeights, watch);
            NDArray act = lowp(lowp(gate.mul(Activation.sigmoid(gate))).mul(up));
            NDArray down = linear(act, p + "mlp.down_proj", w, linearWeights, watch);
            return lowp(h.add(down));
        });
    }

    private NDArray attention(NDArray x, String p, Map<String, NDArray> w, Map<String, NDArray> replaced,
                              BiConsumer<String, NDArray> watch, NDArray[] cosSin, NDArray bias, long batch, long seq) {
        int heads = s.numHeads();
        int kvHeads = s.numKvHeads();
        int d = s.headDim();
        NDArray q = linear(x, p + "self_attn.q_proj", w, replaced, watch).reshape(batch, seq, heads, d);
        NDArray k = linear(x, p + "self_attn.k_proj", w, replaced, watch).reshape(batch, seq, kvHeads, d);
        NDArray v = linear(x, p + "self_attn.v_proj", w, replaced, watch).reshape(batch, seq, kvHeads, d);
        if (s.qkNorm()) {
            q = rmsNorm(q, w.get(p + "self_attn.q_norm.weight"));
            k = rmsNorm(k, w.get(p + "self_attn.k_norm.weight"));
        }
        q = applyRotary(q.transpose(0, 2, 1, 3), cosSin);
        k = applyRotary(k.transpose(0, 2, 1, 3), cosSin);
        v = v.transpose(0, 2, 1, 3);
        if (kvHeads != heads) {
            int rep = heads / kvHeads;
            k = k.repeat(1, rep);
            v = v.repeat(1, rep);
        }
        NDArray scores = lowp(lowp(q.matMul(k.transpose(0, 1, 3, 2))).mul(constant(q, (float) (1.0 / Math.sqrt(d)))));
        NDArray probs = lowp(scores.add(bias).softmax(-1));
        NDArray ctx = lowp(probs.matMul(v)).transpose(0, 2, 1, 3).reshape(batch, seq, (long) heads * d);
        return linear(ctx, p + "self_attn.o_proj", w, replaced, watch);
    }

    /** cos and sin {@code [batch, 1, seq, headDim]} in the compute type, from float32 angles. */
    private NDArray[] rotary(NDManager m, NDArray positions) {
        NDArray inv = m.create(inverseFrequencies);
        NDArray angles = positions.toType(DataType.FLOAT32, false).expandDims(2).mul(inv.reshape(1, 1, -1));
        NDArray emb = NDArrays.concat(new NDList(angles, angles), -1).expandDims(1);
        return new NDArray[]{lowp(emb.cos()), lowp(emb.sin())};
    }

    private NDArray applyRotary(NDArray x, NDArray[] cosSin) {
        long half = s.headDim() / 2;
        NDArray first = x.get("..., :" + half);
        NDArray second = x.get("..., " + half + ":");
        NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1);
        return lowp(lowp(x.mul(cosSin[0])).add(lowp(rotated.mul(cosSin[1]))));
    }

    /** RMSNorm as transformers computes it: statistics in float32, scaled by the weight in the compute type. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray variance = x.square().mean(new int[]{-1}, true);
        NDArray normed = x.mul(constant(x, 1f).div(variance.add((float) s.rmsEps()).sqrt()));
        return lowp(weight.mul(lowp(normed)));
    }

    private NDArray linear(NDArray x, String name, Map<String, NDArray> w, Map<String, NDArray> replaced,
                           BiConsumer<String, NDArray> watch) {
        if (watch != null) {
            watch.accept(name, x);
        }
        NDArray weight = replaced == null ? null : replaced.get(name);
        if (weight == null) {
            weight = w.get(name + ".weight");
        } else {
            weight = asCompute(weight);
        }
        NDArray bias = w.get(name + ".bias");
        return lowp(Linear.linear(x, weight, bias).singletonOrThrow());
    }

    /**
     * A float32 scalar owned by the engine, for multiplications and divisions on the gradient path: DJL's
     * {@code mul(Number)}/{@code rdiv(Number)} wrap the number in a temporary array over a Java direct buffer and
     * close it at once, autograd keeps that tensor for the backward pass, and after the garbage collector frees
     * the buffer the backward reads foreign memory (tuning results then vary from run to run).
     */
    private static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    /** In bf16 mode, rounds to bfloat16 (values kept in float32, see ModelTensors#toNDArray); else unchanged. */
    private NDArray lowp(NDArray x) {
        return bf16 ? ModelTensors.roundToBfloat16(x) : x;
    }

    /** A caller-supplied weight in the compute precision (float32 storage, bf16-rounded in bf16 mode). */
    private NDArray asCompute(NDArray weight) {
        NDArray w = weight.getDataType() == DataType.FLOAT32 ? weight : weight.toType(DataType.FLOAT32, false);
        return lowp(w);
    }

    @Override
    public NDArray linearWeight(NDManager manager, String name) {
        String tensor = name.equals("lm_head") && tied ? embeddingWeightName() : name + ".weight";
        return ModelTensors.toNDArray(manager, require(tensor), DataType.FLOAT32);
    }

    @Override
    public NDArray linearBias(NDManager manager, String name) {
        String tensor = name + ".bias";
        return store.contains(tensor) ? ModelTensors.toNDArray(manager, store.get(tensor), DataType.FLOAT32) : null;
    }

    @Override
    public boolean exposesHeadInput() {
        return true;
    }

    @Override
    public NDArray headInput(NDArray hidden) {
        NDManager target = hidden.getManager();
        NDArray norm = finalNormWeight(); // outside the scope: the scope would close a lazily loaded cache entry
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            result = rmsNorm(hidden, norm);
            NDScope.unregister(result);
        }
        result.attach(target);
        return result;
    }

    @Override
    public NDArray head(NDArray hidden, NDArray lmHeadWeight) {
        NDManager target = hidden.getManager();
        NDArray norm = finalNormWeight();
        NDArray weight = lmHeadWeight != null ? lmHeadWeight : lmHeadWeight();
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray w = lmHeadWeight != null ? asCompute(weight) : weight;
            result = lowp(Linear.linear(rmsNorm(hidden, norm), w).singletonOrThrow());
            NDScope.unregister(result);
        }
        result.attach(target);
        return result;
    }

    private synchronized NDArray embeddingTable() {
        if (embedding == null) {
            embedding = ModelTensors.toNDArray(root, store.get(embeddingWeightName()), computeType);
        }
        return embedding;
    }

    private synchronized NDArray finalNormWeight() {
        if (finalNorm == null) {
            finalNorm = ModelTensors.toNDArray(root, require("model.norm.weight"), computeType);
        }
        return finalNorm;
    }

    private synchronized NDArray lmHeadWeight() {
        if (lmHead == null) {
            lmHead = tied ? embeddingTable() : ModelTensors.toNDArray(root, require("lm_head.weight"), computeType);
        }
        return lmHead;
    }

    private dev.jround.spi.tensor.HostTensor require(String name) {
        if (!store.contains(name)) {
            throw new CorruptInputException("the checkpoint lacks tensor '" + name + "'",
                    "a " + s.modelType() + " checkpoint with " + s.numLayers() + " layers needs it");
        }
        return store.get(name);
    }

    /** The block's checkpoint tensors in the compute type, loaded on first use. */
    private synchronized Map<String, NDArray> weights(int i) {
        if (i < 0 || i >= s.numLayers()) {
            throw new IndexOutOfBoundsException("block " + i + " of " + s.numLayers());
        }
        return blockWeights.get(i, () -> blockTensorNames(i), this::require);
    }

    /** Full checkpoint names of the tensors block {@code i} computes with. */
    private List<String> blockTensorNames(int i) {
        List<String> names = new ArrayList<>(List.of("input_layernorm.weight", "post_attention_layernorm.weight"));
        for (String a : ATTENTION) {
            names.add("self_attn." + a + ".weight");
        }
        for (String f : MLP) {
            names.add("mlp." + f + ".weight");
        }
        if (s.attentionBias()) {
            names.addAll(List.of("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"));
        }
        if (s.outputBias()) {
            names.add("self_attn.o_proj.bias");
        }
        if (s.mlpBias()) {
            for (String f : MLP) {
                names.add("mlp." + f + ".bias");
            }
        }
        if (s.qkNorm()) {
            names.addAll(List.of("self_attn.q_norm.weight", "self_attn.k_norm.weight"));
        }
        String p = blockName(i) + ".";
        return names.stream().map(n -> p + n).toList();
    }

    @Override
    public synchronized void releaseBlock(int i) {
        blockWeights.release(i);
    }

    @Override
    public synchronized void close() {
        blockWeights.close();
        embedding = null;
        finalNorm = null;
        lmHead = null;
        root.close();
    }
}
