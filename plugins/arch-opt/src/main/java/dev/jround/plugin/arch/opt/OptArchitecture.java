package dev.jround.plugin.arch.opt;

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

/** Meta's OPT decoders (facebook/opt-125m ... ), the model AutoRound's documentation uses. */
public final class OptArchitecture implements ModelArchitecture {

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.ARCHITECTURE, "opt", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "OPT decoders: learned positions, LayerNorm, ReLU MLP, optional project_in/out",
                Map.of("model_types", List.of("opt"), "architectures", List.of("OPTForCausalLM")));
    }

    @Override
    public List<String> modelTypes() {
        return List.of("opt");
    }

    @Override
    public boolean supports(ModelConfig config) {
        String type = config.modelType();
        return type.isEmpty() ? config.architectures().contains("OPTForCausalLM") : type.equals("opt");
    }

    @Override
    public CausalLM bind(ModelConfig config, TensorStore weights, DeviceBackend device, DataType computeType) {
        return new OptModel(config, weights, device.newManager(), computeType);
    }

    @Override
    public Optional<TensorLayout> tensorLayout(ModelConfig config) {
        return Optional.of(OptLayout.of(config));
    }
}
