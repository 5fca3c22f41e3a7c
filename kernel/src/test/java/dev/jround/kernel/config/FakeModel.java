package dev.jround.kernel.config;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** Names and shapes of a Llama-like model (attention 64x64, MLP 64 <-> 172), nothing runnable. */
final class FakeModel implements CausalLM {

    private final int blocks;
    private final boolean tied;

    FakeModel(int blocks, boolean tied) {
        this.blocks = blocks;
        this.tied = tied;
    }

    @Override public ModelConfig config() { return null; }
    @Override public int hiddenSize() { return 64; }
    @Override public int vocabSize() { return 512; }
    @Override public int maxPositions() { return 128; }
    @Override public DataType computeType() { return DataType.FLOAT32; }
    @Override public int numBlocks() { return blocks; }
    @Override public String blockName(int i) { return "model.layers." + i; }

    @Override
    public List<LinearInfo> blockLinears(int i) {
        String p = "model.layers." + i + ".";
        return List.of(new LinearInfo(p + "self_attn.q_proj", 64, 64, false), new LinearInfo(p + "self_attn.k_proj", 64, 64, false),
                new LinearInfo(p + "self_attn.v_proj", 64, 64, false), new LinearInfo(p + "self_attn.o_proj", 64, 64, false),
                new LinearInfo(p + "mlp.gate_proj", 64, 172, false), new LinearInfo(p + "mlp.up_proj", 64, 172, false),
                new LinearInfo(p + "mlp.down_proj", 172, 64, false));
    }

    @Override public LinearInfo lmHead() { return new LinearInfo("lm_head", 64, 512, false); }
    @Override public boolean tiedEmbeddings() { return tied; }
    @Override public String embeddingWeightName() { return "model.embed_tokens.weight"; }
    @Override public NDArray embed(NDManager manager, NDArray inputIds) { throw new UnsupportedOperationException(); }
    @Override public NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> w,
                                          BiConsumer<String, NDArray> observer) { throw new UnsupportedOperationException(); }
    @Override public NDArray linearWeight(NDManager manager, String name) { throw new UnsupportedOperationException(); }
    @Override public NDArray linearBias(NDManager manager, String name) { return null; }
    @Override public NDArray head(NDArray hidden, NDArray lmHeadWeight) { throw new UnsupportedOperationException(); }
    @Override public void close() { }
}
