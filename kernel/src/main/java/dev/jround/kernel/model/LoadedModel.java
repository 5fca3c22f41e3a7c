package dev.jround.kernel.model;

import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Path;

/**
 * A model opened for running: the bound {@link CausalLM}, its weights (memory-mapped or dequantized), the
 * tokenizer when one is installed and present ({@code null} otherwise) and the device it runs on.
 *
 * @param source      the directory or file the model was read from
 * @param description one line for tables and reports, e.g. {@code llama (safetensors)} or the backend's words
 */
public record LoadedModel(Path source, ModelConfig config, TensorStore weights, CausalLM lm, Tokenizer tokenizer,
                          DeviceBackend device, String description) implements AutoCloseable {

    @Override
    public void close() {
        try {
            lm.close();
        } finally {
            try {
                if (tokenizer != null) {
                    tokenizer.close();
                }
            } finally {
                weights.close();
            }
        }
    }
}
