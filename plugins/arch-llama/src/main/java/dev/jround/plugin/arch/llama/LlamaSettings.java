package dev.jround.plugin.arch.llama;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ModelConfig;

/** The shape parameters of a Llama-family config.json, with the per-family defaults of transformers. */
record LlamaSettings(String modelType, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                     int numKvHeads, int headDim, int vocabSize, int maxPositions, double rmsEps,
                     boolean attentionBias, boolean outputBias, boolean mlpBias, boolean qkNorm,
                     int[] slidingWindowPerLayer, RopeSettings rope, Boolean tieEmbeddings) {

    /** RoPE frequency settings: {@code type} is default, linear or llama3. */
    record RopeSettings(String type, double theta, double factor, double lowFreqFactor, double highFreqFactor,
                        int originalMaxPositions) {
    }

    static LlamaSettings from(ModelConfig c) {
        String type = c.modelType().isEmpty() ? "llama" : c.modelType();
        int hidden = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int kvHeads = c.getInt("num_key_value_heads", heads);
        int headDim = c.getInt("head_dim", hidden / heads);
        int layers = c.requireInt("num_hidden_layers");
        String act = c.getString("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new UnsupportedFeatureException(c.directory() + "/config.json has hidden_act '" + act + "'",
                    "the llama plugin runs silu (SwiGLU) MLPs");
        }
        boolean attentionBias;
        boolean outputBias;
        switch (type) {
            case "qwen2" -> {
                attentionBias = true;
                outputBias = false;
            }
            case "mistral" -> {
                attentionBias = false;
                outputBias = false;
            }
            default -> {
                attentionBias = c.getBoolean("attention_bias", false);
                outputBias = attentionBias;
            }
        }
        boolean mlpBias = type.equals("llama") && c.getBoolean("mlp_bias", false);
        int[] window = new int[layers];
        int sliding = c.getInt("sliding_window", 0);
        JsonNode layerTypes = c.value("layer_types").map(ConfigJson::node).orElse(null);
        for (int i = 0; i < layers; i++) {
            boolean slides;
            if (layerTypes != null && layerTypes.isArray() && layerTypes.size() == layers) {
                slides = "sliding_attention".equals(layerTypes.get(i).asText());
            } else if (type.equals("mistral")) {
                slides = true;
            } else if (type.equals("qwen2") || type.equals("qwen3")) {
                slides = c.getBoolean("use_sliding_window", false) && i >= c.getInt("max_window_layers", 0);
            } else {
                slides = false;
            }
            window[i] = slides ? sliding : 0;
        }
        Boolean tie = c.has("tie_word_embeddings") ? c.getBoolean("tie_word_embeddings", false) : null;
        return new LlamaSettings(type, hidden, c.requireInt("intermediate_size"), layers, heads, kvHeads, headDim,
                c.requireInt("vocab_size"), c.getInt("max_position_embeddings", 2048), c.getDouble("rms_norm_eps", 1e-6),
                attentionBias, outputBias, mlpBias, type.equals("qwen3"), window, rope(c), tie);
    }

    private static RopeSettings rope(ModelConfig c) {
        // transformers 5 writes rope_parameters (with rope_theta inside); older configs rope_scaling + rope_theta.
        JsonNode p = c.value("rope_parameters").map(ConfigJson::node).orElse(null);
        if (p == null || p.isNull()) {
            p = c.value("rope_scaling").map(ConfigJson::node).orElse(null);
        }
        double theta = c.getDouble("rope_theta", 10000.0);
        if (p == null || p.isNull()) {
            return new RopeSettings("default", theta, 1, 1, 1, 0);
        }
        theta = p.path("rope_theta").asDouble(theta);
        String type = p.path("rope_type").asText(p.path("type").asText("default"));
        return switch (type) {
            case "default" -> new RopeSettings("default", theta, 1, 1, 1, 0);
            case "linear" -> new RopeSettings("linear", theta, p.path("factor").asDouble(1), 1, 1, 0);
            case "llama3" -> new RopeSettings("llama3", theta, p.path("factor").asDouble(8),
                    p.path("low_freq_factor").asDouble(1), p.path("high_freq_factor").asDouble(4),
                    p.path("original_max_position_embeddings").asInt(8192));
            default -> throw new UnsupportedFeatureException(c.directory() + "/config.json asks for rope type '" + type + "'",
                    "supported rope types: default, linear, llama3");
        };
    }
}
