package dev.jround.plugin.arch.llama;

import ai.djl.ndarray.types.DataType;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.tensor.TensorStore;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Llama family: Llama (incl. Llama 3 rope scaling), Mistral (sliding window), Qwen2 (q/k/v bias) and
 * Qwen3 (per-head q/k RMSNorm). They share one decoder layer; the differences are read from config.json.
 */
public final class LlamaFamilyArchitecture implements ModelArchitecture {

    static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2", "qwen3");
    private static final List<String> ARCHITECTURES =
            List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.ARCHITECTURE, "llama", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "Llama family decoders: Llama 1-3, Mistral, Qwen2, Qwen3",
                Map.of("model_types", MODEL_TYPES, "architectures", ARCHITECTURES));
    }

    @Override
    public List<String> modelTypes() {
        return MODEL_TYPES;
    }

    @Override
    public boolean supports(ModelConfig config) {
        String type = config.modelType();
        if (!type.isEmpty()) {
            return MODEL_TYPES.contains(type);
        }
        return config.architectures().stream().anyMatch(ARCHITECTURES::contains);
    }

    @Override
    public CausalLM bind(ModelConfig config, TensorStore weights, DeviceBackend device, DataType computeType) {
        return new LlamaFamilyModel(LlamaSettings.from(config), config, weights, device.newManager(), computeType);
    }

    @Override
    public Optional<TensorLayout> tensorLayout(ModelConfig config) {
        return Optional.of(LlamaLayout.of(config));
    }
}
