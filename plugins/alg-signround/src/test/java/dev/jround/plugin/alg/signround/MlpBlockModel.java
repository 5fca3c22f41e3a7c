package dev.jround.plugin.alg.signround;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiConsumer;

/** A toy decoder: each block is a residual SiLU MLP {@code x + down(silu(up(x)))} with random weights. */
final class MlpBlockModel implements CausalLM {

    final int hidden;
    final int inter;
    final int blocks;
    private final NDManager manager;
    private final Map<String, float[]> weights = new HashMap<>();
    private final Map<String, NDArray> transposed = new HashMap<>();

    MlpBlockModel(NDManager parent, int hidden, int inter, int blocks, long seed) {
        this.hidden = hidden;
        this.inter = inter;
        this.blocks = blocks;
        this.manager = parent.newSubManager();
        Random r = new Random(seed);
        for (int b = 0; b < blocks; b++) {
            for (LinearInfo li : blockLinears(b)) {
                float[] w = new float[li.outFeatures() * li.inFeatures()];
                double std = 1.0 / Math.sqrt(li.inFeatures());
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (r.nextGaussian() * std);
                }
                weights.put(li.name(), w);
                transposed.put(li.name(), manager.create(w, new Shape(li.outFeatures(), li.inFeatures())).transpose());
            }
        }
    }

    NDManager manager() {
        return manager;
    }

    @Override public ModelConfig config() { return null; }
    @Override public int hiddenSize() { return hidden; }
    @Override public int vocabSize() { return 16; }
    @Override public int maxPositions() { return 64; }
    @Override public DataType computeType() { return DataType.FLOAT32; }
    @Override public int numBlocks() { return blocks; }
    @Override public String blockName(int i) { return "model.layers." + i; }

    @Override
    public List<LinearInfo> blockLinears(int i) {
        List<LinearInfo> l = new ArrayList<>();
        l.add(new LinearInfo("model.layers." + i + ".mlp.up_proj", hidden, inter, false));
        l.add(new LinearInfo("model.layers." + i + ".mlp.down_proj", inter, hidden, false));
        return l;
    }

    @Override public LinearInfo lmHead() { return new LinearInfo("lm_head", hidden, 16, false); }
    @Override public boolean tiedEmbeddings() { return false; }
    @Override public String embeddingWeightName() { return "model.embed_tokens.weight"; }
    @Override public NDArray embed(NDManager m, NDArray inputIds) { throw new UnsupportedOperationException(); }
    @Override public NDArray head(NDArray hidden, NDArray lmHeadWeight) { throw new UnsupportedOperationException(); }
    @Override public void close() { manager.close(); }

    @Override
    public NDArray linearWeight(NDManager m, String name) {
        LinearInfo li = find(name);
        return m.create(weights.get(name), new Shape(li.outFeatures(), li.inFeatures()));
    }

    @Override
    public NDArray linearBias(NDManager m, String name) {
        return null;
    }

    @Override
    public NDArray blockForward(int i, NDArray x, BlockInputs inputs, Map<String, NDArray> replacement,
                                BiConsumer<String, NDArray> observer) {
        String up = "model.layers." + i + ".mlp.up_proj";
        String down = "model.layers." + i + ".mlp.down_proj";
        NDArray u = linear(x, up, replacement);
        NDArray h = u.mul(Activation.sigmoid(u));
        return x.add(linear(h, down, replacement));
    }

    private NDArray linear(NDArray x, String name, Map<String, NDArray> replacement) {
        NDArray w = replacement.get(name);
        // the checkpoint weight is kept transposed so no temporary lands on the model's own manager
        return w == null ? x.matMul(transposed.get(name)) : x.matMul(w.transpose());
    }

    private LinearInfo find(String name) {
        for (int b = 0; b < blocks; b++) {
            for (LinearInfo li : blockLinears(b)) {
                if (li.name().equals(name)) {
                    return li;
                }
            }
        }
        throw new IllegalArgumentException(name);
    }
}
