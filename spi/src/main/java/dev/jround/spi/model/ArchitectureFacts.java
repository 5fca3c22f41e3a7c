package dev.jround.spi.model;

/**
 * The hyper-parameters of a model as its architecture plugin reads them from {@code config.json}, in the terms
 * exporters need for metadata (GGUF's {@code {arch}.block_count}, {@code context_length} ...), so that no
 * exporter parses an architecture's config keys itself.
 *
 * @param name              the family's display name for messages, e.g. {@code Llama}, {@code Qwen2}, {@code OPT}
 * @param llamaCpp          how llama.cpp runs this model, or {@code null} when llama.cpp has no such architecture
 * @param blockCount        decoder blocks
 * @param contextLength     trained context length (max positions)
 * @param embeddingLength   hidden width
 * @param feedForwardLength MLP inner width
 * @param headCount         attention (query) heads
 * @param headCountKv       key/value heads
 * @param headDim           width of one head
 * @param headDimStated     whether config.json states the head width itself ({@code head_dim}) rather than
 *                          implying {@code hidden / heads}; llama.cpp's converter writes key/value lengths only then
 * @param vocabSize         rows of the token embedding
 * @param norm              RMSNorm or LayerNorm
 * @param normEps           the norms' epsilon
 * @param ropeFreqBase      rope theta as config.json states it, or NaN when it states none (or the model has no rope)
 * @param ropeDimensionCount rotated dimensions per head, 0 without rotary embeddings
 * @param tiedEmbeddings    whether config.json declares the output projection tied to the token embedding
 */
public record ArchitectureFacts(String name, LlamaCpp llamaCpp, int blockCount, int contextLength, int embeddingLength,
                                int feedForwardLength, int headCount, int headCountKv, int headDim, boolean headDimStated,
                                int vocabSize, Norm norm, double normEps, double ropeFreqBase, int ropeDimensionCount,
                                boolean tiedEmbeddings) {

    /** The kind of normalization the blocks use. */
    public enum Norm { RMS, LAYER }

    /**
     * llama.cpp's view of the architecture, for GGUF.
     *
     * @param architecture     llama.cpp's architecture name ({@code general.architecture}), e.g. {@code llama}, {@code qwen2}
     * @param permuteQk        whether llama.cpp's graph for it rotates interleaved pairs while the checkpoint's q/k rows
     *                         hold rotate-half layout, so GGUF must reorder the rows of every head (true for Llama and
     *                         Mistral, false for Qwen2/Qwen3, whose llama.cpp graphs use NeoX rope)
     * @param vocabAndRopeKeys whether llama.cpp's converter writes {@code {arch}.vocab_size} and
     *                         {@code {arch}.rope.dimension_count} for it (its Llama converter does, Qwen's do not)
     */
    public record LlamaCpp(String architecture, boolean permuteQk, boolean vocabAndRopeKeys) {
    }
}
