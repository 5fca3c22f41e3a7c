package dev.jround.spi.model;

import ai.djl.ndarray.NDArray;

/**
 * Auxiliary inputs of a decoder block besides the hidden state.
 *
 * @param attentionMask {@code [batch, seq]} with 1 for real tokens and 0 for padding, or {@code null} when
 *                      every token is real; the architecture adds the causal mask and derives positions itself
 */
public record BlockInputs(NDArray attentionMask) {

    public static final BlockInputs NONE = new BlockInputs(null);
}
