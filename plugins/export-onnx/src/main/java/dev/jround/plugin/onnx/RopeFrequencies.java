package dev.jround.plugin.onnx;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;

/**
 * The rotary inverse frequencies the graph multiplies positions with, computed in float32 as transformers' rope
 * initialisers do for the rope types jround's Llama family reads (default, linear, llama3).
 */
final class RopeFrequencies {

    private RopeFrequencies() {
    }

    static float[] of(ModelConfig cfg, ArchitectureFacts facts) {
        JsonNode p = cfg.value("rope_parameters").map(ConfigJson::node).orElse(null);
        if (p == null || p.isNull()) {
            p = cfg.value("rope_scaling").map(ConfigJson::node).orElse(null);
        }
        double theta = Double.isNaN(facts.ropeFreqBase()) ? 10000.0 : facts.ropeFreqBase();
        String type = p == null || p.isNull() ? "default" : p.path("rope_type").asText(p.path("type").asText("default"));
        int dim = facts.ropeDimensionCount();
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0f / (float) Math.pow(theta, (float) (2 * i) / dim);
        }
        switch (type) {
            case "default" -> {
            }
            case "linear" -> {
                double factor = p.path("factor").asDouble(1);
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = (float) (inv[i] / factor);
                }
            }
            case "llama3" -> llama3(inv, p.path("factor").asDouble(8), p.path("low_freq_factor").asDouble(1),
                    p.path("high_freq_factor").asDouble(4), p.path("original_max_position_embeddings").asInt(8192));
            default -> throw new UnsupportedFeatureException("the ONNX export computes rope types default, linear and"
                    + " llama3; config.json asks for '" + type + "'", "choose another --format (fake, auto_round ...)");
        }
        return inv;
    }

    /** Llama 3.1's scaling: long wavelengths divided by the factor, short ones kept, the band between blended. */
    private static void llama3(float[] inv, double factor, double low, double high, int oldContext) {
        double lowWavelen = oldContext / low;
        double highWavelen = oldContext / high;
        for (int i = 0; i < inv.length; i++) {
            float f = inv[i];
            float wavelen = (float) (2 * Math.PI) / f;
            float scaled = wavelen > lowWavelen ? (float) (f / factor) : f;
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                float smooth = (float) ((oldContext / wavelen - low) / (high - low));
                scaled = (float) ((1 - smooth) * scaled / factor + smooth * scaled);
            }
            inv[i] = scaled;
        }
    }
}
