package dev.jround.spi.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.List;
import java.util.Map;

/**
 * A decoder-only language model bound to its weights, exposed as the kernel needs it: embeddings,
 * an ordered list of decoder blocks, and the head. Blocks are run functionally: the caller may pass
 * replacement weights for any of the block's linear layers (that is how quantization algorithms run
 * a block with fake-quantized, gradient-carrying weights without touching the checkpoint).
 *
 * <p>Implementations load weights lazily per block, so only the blocks in use occupy compute memory.
 */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** Hidden size, vocabulary size and context length. */
    int hiddenSize();

    int vocabSize();

    int maxPositions();

    /** The compute dtype (FLOAT32 or BFLOAT16) blocks run in. */
    DataType computeType();

    int numBlocks();

    /** Checkpoint prefix of block {@code i}, e.g. {@code model.layers.3}. */
    String blockName(int i);

    /** Quantizable linear layers of block {@code i}, in forward order, named by checkpoint path. */
    List<LinearInfo> blockLinears(int i);

    /** The output projection; for tied models its weight is the embedding table. */
    LinearInfo lmHead();

    boolean tiedEmbeddings();

    /** Name of the token-embedding tensor, e.g. {@code model.embed_tokens.weight}. */
    String embeddingWeightName();

    /** Token ids {@code [batch, seq]} (int64) to hidden states {@code [batch, seq, hidden]}. */
    NDArray embed(NDManager manager, NDArray inputIds);

    /**
     * Runs block {@code i}. {@code linearWeights} maps a linear layer's name (as in {@link #blockLinears})
     * to a replacement {@code [out, in]} weight; layers not in the map use the checkpoint weight.
     * Result has the input's shape and lives on the input's manager.
     */
    default NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> linearWeights) {
        return blockForward(i, hidden, inputs, linearWeights, null);
    }

    /**
     * As {@link #blockForward(int, NDArray, BlockInputs, Map)}, and calls {@code linearInputObserver} with
     * each linear layer's name and its input activation {@code [batch, seq, in]} just before the layer runs
     * (used to collect importance matrices and lm_head inputs). The observer must not close the array.
     */
    NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> linearWeights,
                         java.util.function.BiConsumer<String, NDArray> linearInputObserver);

    /**
     * The checkpoint weight of a linear layer (a block linear or the lm_head) as a float32 {@code [out, in]}
     * array on {@code manager} (a fresh array the caller owns; quantization algorithms start from it).
     */
    NDArray linearWeight(NDManager manager, String name);

    /** The layer's bias as float32 {@code [out]} on {@code manager}, or {@code null} if it has none. */
    NDArray linearBias(NDManager manager, String name);

    /**
     * What the lm_head multiplies: the block stack's output {@code [batch, seq, hidden]} after the final norm (and
     * any projection before the head), on {@code hidden}'s manager. Algorithms tune the lm_head on these. Only
     * called when {@link #exposesHeadInput()} is true.
     */
    default NDArray headInput(NDArray hidden) {
        throw new dev.jround.spi.UnsupportedFeatureException(getClass().getSimpleName() + " does not expose the lm_head's inputs",
                "the lm_head is rounded to nearest instead of tuned");
    }

    /** Whether {@link #headInput} is implemented; when false the kernel rounds a quantized lm_head to nearest. */
    default boolean exposesHeadInput() {
        return false;
    }

    /** Final norm and output projection: hidden {@code [batch, seq, hidden]} to logits {@code [batch, seq, vocab]}. */
    NDArray head(NDArray hidden, NDArray lmHeadWeight);

    /** Full forward: ids to logits. */
    default NDArray logits(NDManager manager, NDArray inputIds, BlockInputs inputs) {
        NDArray h = embed(manager, inputIds);
        for (int i = 0; i < numBlocks(); i++) {
            NDArray next = blockForward(i, h, inputs, Map.of());
            if (h != next) {
                h.close();
            }
            h = next;
        }
        return head(h, null);
    }

    /** Releases weights of block {@code i} from compute memory (it is reloaded on next use). */
    default void releaseBlock(int i) {
    }

    @Override
    void close();
}
