package dev.jround.spi.model;

/**
 * What a checkpoint tensor means, independent of how the checkpoint names it. The set follows llama.cpp's
 * {@code MODEL_TENSOR} (gguf-py), so that a format such as GGUF maps roles to its own names and never needs a
 * table of each architecture's checkpoint names. Architecture plugins declare the role of every tensor through
 * {@link TensorLayout}.
 */
public enum TensorRole {

    /** Token embedding table {@code [vocab, hidden]}. */
    TOKEN_EMBD(false),
    /** Norm applied right after the token embedding. */
    TOKEN_EMBD_NORM(false),
    /** Learned absolute position table (OPT's has two leading rows: positions are offset by 2). */
    POS_EMBD(false),
    /** Projection from the embedding width to the hidden width (OPT's {@code project_in}). */
    PROJECT_IN(false),
    /** Projection from the hidden width back to the embedding width (OPT's {@code project_out}). */
    PROJECT_OUT(false),
    /** Final norm before the output projection. */
    OUTPUT_NORM(false),
    /** Output projection (lm_head) {@code [vocab, hidden]}. */
    OUTPUT(false),
    /** A derived model-level rotary table a checkpoint may store ({@code model.rotary_emb.inv_freq}); formats recompute it. */
    ROT_EMBD(false),
    /** Per-frequency rope factors (Llama 3 rope scaling); formats derive it, checkpoints rarely store it. */
    ROPE_FREQS(false),

    /** Norm before attention. */
    ATTN_NORM(true),
    ATTN_Q(true),
    ATTN_K(true),
    ATTN_V(true),
    /** Attention output projection. */
    ATTN_OUT(true),
    /** Per-head norm of the queries (Qwen3). */
    ATTN_Q_NORM(true),
    /** Per-head norm of the keys (Qwen3). */
    ATTN_K_NORM(true),
    /** A derived rotary table the checkpoint happens to store ({@code rotary_emb.inv_freq}); formats recompute it. */
    ATTN_ROT_EMBD(true),

    /** Norm before the feed-forward network. */
    FFN_NORM(true),
    /** Gate projection of a gated MLP (SwiGLU). */
    FFN_GATE(true),
    /** Up projection (OPT's {@code fc1}). */
    FFN_UP(true),
    /** Down projection (OPT's {@code fc2}). */
    FFN_DOWN(true),
    /** Router of a mixture of experts. */
    FFN_GATE_INP(true),
    /** One expert's gate projection ({@link TensorSlot#expert} tells which). */
    FFN_GATE_EXP(true),
    /** One expert's up projection. */
    FFN_UP_EXP(true),
    /** One expert's down projection. */
    FFN_DOWN_EXP(true);

    private final boolean perBlock;

    TensorRole(boolean perBlock) {
        this.perBlock = perBlock;
    }

    /** Whether the role exists once per decoder block (then {@link TensorSlot#block} is the block's index). */
    public boolean perBlock() {
        return perBlock;
    }

    /** Whether a tensor of this role belongs to one expert of a mixture of experts. */
    public boolean perExpert() {
        return this == FFN_GATE_EXP || this == FFN_UP_EXP || this == FFN_DOWN_EXP;
    }
}
