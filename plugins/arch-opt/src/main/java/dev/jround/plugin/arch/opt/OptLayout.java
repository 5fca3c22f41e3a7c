package dev.jround.plugin.arch.opt;

import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;

/**
 * The tensor roles and facts of an OPT checkpoint: transformers' OPTForCausalLM names, and the same names
 * without {@code model.} for checkpoints saved from the bare OPTModel. llama.cpp has no OPT architecture.
 */
final class OptLayout {

    private OptLayout() {
    }

    static TensorLayout of(ModelConfig c) {
        int hidden = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        ArchitectureFacts facts = new ArchitectureFacts("OPT", null, c.requireInt("num_hidden_layers"),
                c.getInt("max_position_embeddings", 2048), hidden, c.requireInt("ffn_dim"), heads, heads, hidden / heads,
                false, c.requireInt("vocab_size"), ArchitectureFacts.Norm.LAYER, 1e-5, Double.NaN, 0,
                c.getBoolean("tie_word_embeddings", true));
        TensorLayout.Builder b = TensorLayout.builder(facts).model("lm_head", TensorRole.OUTPUT);
        for (String root : new String[]{"model.decoder", "decoder"}) {
            // learned positions: row p + 2 holds position p (OPTLearnedPositionalEmbedding's offset)
            b.model(root + ".embed_tokens", TensorRole.TOKEN_EMBD)
                    .model(root + ".embed_positions", TensorRole.POS_EMBD)
                    .model(root + ".project_in", TensorRole.PROJECT_IN)
                    .model(root + ".project_out", TensorRole.PROJECT_OUT)
                    .model(root + ".final_layer_norm", TensorRole.OUTPUT_NORM)
                    .blocks(root + ".layers");
        }
        return b.block("self_attn_layer_norm", TensorRole.ATTN_NORM)
                .block("self_attn.q_proj", TensorRole.ATTN_Q)
                .block("self_attn.k_proj", TensorRole.ATTN_K)
                .block("self_attn.v_proj", TensorRole.ATTN_V)
                .block("self_attn.out_proj", TensorRole.ATTN_OUT)
                .block("final_layer_norm", TensorRole.FFN_NORM)
                .block("fc1", TensorRole.FFN_UP)
                .block("fc2", TensorRole.FFN_DOWN)
                .build();
    }
}
