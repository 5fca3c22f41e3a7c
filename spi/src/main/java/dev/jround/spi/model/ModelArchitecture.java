package dev.jround.spi.model;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.tensor.TensorStore;

import ai.djl.ndarray.types.DataType;

/** Binds a checkpoint to a runnable {@link CausalLM}. One plugin may cover a family (Llama, Mistral, Qwen2 ...). */
public interface ModelArchitecture extends JroundPlugin {

    /** {@code model_type} values this plugin understands, for the "supported architectures" message. */
    java.util.List<String> modelTypes();

    /** Whether the config (model_type / architectures) belongs to this plugin. */
    boolean supports(ModelConfig config);

    /**
     * @param weights     the checkpoint (original or dequantized) under Hugging Face tensor names
     * @param computeType FLOAT32 or BFLOAT16
     */
    CausalLM bind(ModelConfig config, TensorStore weights, DeviceBackend device, DataType computeType);

    /**
     * The role of every tensor of a checkpoint with this config, and the model's facts; read from the config alone,
     * so exporters and tools get it without binding weights. Empty: the plugin declares none, and exporters that
     * map roles (GGUF) refuse the model.
     */
    default java.util.Optional<TensorLayout> tensorLayout(ModelConfig config) {
        return java.util.Optional.empty();
    }
}
