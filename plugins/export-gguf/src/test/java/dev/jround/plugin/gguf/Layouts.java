package dev.jround.plugin.gguf;

import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;

/**
 * Tensor layouts for the test checkpoints, declared here: a plugin's tests may not depend on another plugin, so
 * these stand in for what the architecture plugins declare (Hugging Face module names, facts read from config.json).
 * The real declarations meet the GGUF mapping in the it module (ExportEventsTest, GgufChatTemplateTest, the
 * aidreams260K GGUF tests), and each architecture plugin tests its own table.
 */
final class Layouts {

    private Layouts() {
    }

    static TensorLayout of(ModelConfig c) {
        String type = c.modelType();
        if (type.equals("opt")) {
            return opt(c);
        }
        int hidden = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int headDim = c.getInt("head_dim", hidden / heads);
        // llama.cpp's llama graph (Llama, Mistral) reorders q/k rows for interleaved rope; qwen2/qwen3 use NeoX rope
        ArchitectureFacts.LlamaCpp llamaCpp = switch (type) {
            case "qwen2", "qwen3" -> new ArchitectureFacts.LlamaCpp(type, false, false);
            default -> new ArchitectureFacts.LlamaCpp("llama", true, true);
        };
        double theta = c.has("rope_theta") ? c.getDouble("rope_theta", 10000) : Double.NaN;
        ArchitectureFacts facts = new ArchitectureFacts(type, llamaCpp, c.requireInt("num_hidden_layers"),
                c.getInt("max_position_embeddings", 2048), hidden, c.requireInt("intermediate_size"), heads,
                c.getInt("num_key_value_heads", heads), headDim, c.has("head_dim"), c.requireInt("vocab_size"),
                ArchitectureFacts.Norm.RMS, c.getDouble("rms_norm_eps", 1e-6), theta, headDim,
                c.getBoolean("tie_word_embeddings", false));
        return TensorLayout.builder(facts)
                .model("model.embed_tokens", TensorRole.TOKEN_EMBD)
                .model("model.norm", TensorRole.OUTPUT_NORM)
                .model("lm_head", TensorRole.OUTPUT)
                .blocks("model.layers")
                .block("input_layernorm", TensorRole.ATTN_NORM)
                .block("self_attn.q_proj", TensorRole.ATTN_Q)
                .block("self_attn.k_proj", TensorRole.ATTN_K)
                .block("self_attn.v_proj", TensorRole.ATTN_V)
                .block("self_attn.o_proj", TensorRole.ATTN_OUT)
                .block("self_attn.q_norm", TensorRole.ATTN_Q_NORM)
                .block("self_attn.k_norm", TensorRole.ATTN_K_NORM)
                .block("post_attention_layernorm", TensorRole.FFN_NORM)
                .block("mlp.gate_proj", TensorRole.FFN_GATE)
                .block("mlp.up_proj", TensorRole.FFN_UP)
                .block("mlp.down_proj", TensorRole.FFN_DOWN)
                .build();
    }

    /** An architecture llama.cpp does not run: the GGUF exporter must refuse it before writing. */
    private static TensorLayout opt(ModelConfig c) {
        int hidden = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        ArchitectureFacts facts = new ArchitectureFacts("OPT", null, c.requireInt("num_hidden_layers"),
                c.getInt("max_position_embeddings", 2048), hidden, c.requireInt("ffn_dim"), heads, heads, hidden / heads,
                false, c.requireInt("vocab_size"), ArchitectureFacts.Norm.LAYER, 1e-5, Double.NaN, 0, true);
        return TensorLayout.builder(facts).model("lm_head", TensorRole.OUTPUT).build();
    }
}
