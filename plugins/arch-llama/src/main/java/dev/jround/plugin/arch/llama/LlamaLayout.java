package dev.jround.plugin.arch.llama;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;

/** The tensor roles and facts of a Llama-family checkpoint (transformers' LlamaForCausalLM module names). */
final class LlamaLayout {

    private LlamaLayout() {
    }

    static TensorLayout of(ModelConfig c) {
        String type = c.modelType().isEmpty() ? "llama" : c.modelType();
        int hidden = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int headDim = c.getInt("head_dim", hidden / heads);
        // llama.cpp runs Llama and Mistral in its "llama" graph (interleaved rope: q/k rows are reordered); Qwen2
        // and Qwen3 have their own graphs with NeoX rope, which takes the checkpoint's rows as they are
        ArchitectureFacts.LlamaCpp llamaCpp = switch (type) {
            case "qwen2" -> new ArchitectureFacts.LlamaCpp("qwen2", false, false);
            case "qwen3" -> new ArchitectureFacts.LlamaCpp("qwen3", false, false);
            default -> new ArchitectureFacts.LlamaCpp("llama", true, true);
        };
        String name = switch (type) {
            case "mistral" -> "Mistral";
            case "qwen2" -> "Qwen2";
            case "qwen3" -> "Qwen3";
            default -> "Llama";
        };
        ArchitectureFacts facts = new ArchitectureFacts(name, llamaCpp, c.requireInt("num_hidden_layers"),
                c.getInt("max_position_embeddings", 2048), hidden, c.requireInt("intermediate_size"), heads,
                c.getInt("num_key_value_heads", heads), headDim, c.has("head_dim"), c.requireInt("vocab_size"),
                ArchitectureFacts.Norm.RMS, c.getDouble("rms_norm_eps", 1e-6), statedRopeTheta(c), headDim,
                c.getBoolean("tie_word_embeddings", false));
        return TensorLayout.builder(facts)
                .model("model.embed_tokens", TensorRole.TOKEN_EMBD)
                .model("model.norm", TensorRole.OUTPUT_NORM)
                .model("lm_head", TensorRole.OUTPUT)
                .model("model.rotary_emb", TensorRole.ROT_EMBD)
                .blocks("model.layers")
                .block("input_layernorm", TensorRole.ATTN_NORM)
                .block("self_attn.q_proj", TensorRole.ATTN_Q)
                .block("self_attn.k_proj", TensorRole.ATTN_K)
                .block("self_attn.v_proj", TensorRole.ATTN_V)
                .block("self_attn.o_proj", TensorRole.ATTN_OUT)
                .block("self_attn.q_norm", TensorRole.ATTN_Q_NORM)
                .block("self_attn.k_norm", TensorRole.ATTN_K_NORM)
                .block("self_attn.rotary_emb", TensorRole.ATTN_ROT_EMBD)
                .block("post_attention_layernorm", TensorRole.FFN_NORM)
                .block("mlp.gate_proj", TensorRole.FFN_GATE)
                .block("mlp.up_proj", TensorRole.FFN_UP)
                .block("mlp.down_proj", TensorRole.FFN_DOWN)
                .build();
    }

    /** rope_theta as written (top level, or inside transformers 5's rope_parameters), NaN when absent. */
    static double statedRopeTheta(ModelConfig c) {
        if (c.has("rope_theta")) {
            return c.getDouble("rope_theta", 10000);
        }
        JsonNode p = c.value("rope_parameters").map(ConfigJson::node).orElse(null);
        if (p != null && p.has("rope_theta")) {
            return p.get("rope_theta").asDouble();
        }
        return Double.NaN;
    }
}
