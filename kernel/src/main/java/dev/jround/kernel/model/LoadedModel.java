package dev.jround.kernel.model;

import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Path;

/**
 * A model opened for running: the bound {@link CausalLM}, its weights (memory-mapped or dequantized), the
 * tokenizer when one is installed and present ({@code null} otherwise) and the device it runs on.
 *
 * @param source       the directory or file the model was read from
 * @param config       config.json as the loader read it, once; later stages use this instead of reading again
 * @param architecture the architecture plugin that bound {@code lm}
 * @param description  one line for tables and reports, e.g. {@code llama (safetensors)} or the backend's words
 */
public record LoadedModel(Path source, ModelConfig config, ModelArchitecture architecture, TensorStore weights, CausalLM lm, Tokenizer tokenizer,
                          DeviceBackend device, String description) implements AutoCloseable {

    /** The architecture's tensor roles and facts (for exporters that map roles, GGUF), or null if it declares none. */
    public TensorLayout layout() {
        return architecture.tensorLayout(config).orElse(null);
    }

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
