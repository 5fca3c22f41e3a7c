package dev.jround.spi.quant;

/**
 * The resolved scheme of one layer, produced by the kernel's configuration resolution.
 *
 * @param name        checkpoint module path, e.g. {@code model.layers.3.self_attn.q_proj}
 * @param blockIndex  index of the decoder block holding it, or -1 (lm_head, embeddings)
 * @param fixedByUser the entry came from the user, an ignore rule or a forced-FP rule
 * @param reason      why the scheme is what it is (shown by {@code --print_config}), e.g. "layer_config k_proj"
 */
public record LayerSpec(String name, int inFeatures, int outFeatures, QuantScheme scheme, int blockIndex,
                        boolean fixedByUser, String reason) {

    public boolean quantized() {
        return scheme.quantizesWeights();
    }
}
