package dev.jround.kernel.job;

import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.hub.ModelSource;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The model a quantization run works on: its directory, config, memory-mapped weights, the bound
 * {@link CausalLM}, the tokenizer (if one is installed and the model has one) and the device backend.
 */
public record JobModel(Path directory, ModelConfig config, TensorStore weights, CausalLM lm, Tokenizer tokenizer,
                       DeviceBackend device) implements AutoCloseable {

    public static JobModel open(PluginRegistry registry, QuantizeRequest r) {
        ModelSource source = ModelSource.fromEnvironment();
        Path dir = source.resolve(r.model);
        if (Files.isRegularFile(dir.resolve("config.json")) && ModelConfig.read(dir).has("quantization_config")) {
            throw new InvalidInputException("model " + dir + " is already quantized (config.json has quantization_config)",
                    "quantize the full-precision model; 'jround eval' and 'jround generate' read quantized checkpoints");
        }
        LoadedModel m = new ModelLoader(registry, arg -> dir).load(r.model, computeType(r.modelDtype), deviceName(r.device));
        return new JobModel(dir, m.config(), m.weights(), m.lm(), m.tokenizer(), m.device());
    }

    /** AutoRound's {@code --device 0} / {@code auto} mean "the best device"; a name picks that backend. */
    static String deviceName(String requested) {
        if (requested == null) {
            return null;
        }
        String want = requested.toLowerCase(Locale.ROOT).trim();
        return want.isEmpty() || want.equals("auto") || want.matches("\\d+(,\\d+)*") ? null : want;
    }

    static DataType computeType(String modelDtype) {
        if (modelDtype == null || modelDtype.isBlank() || modelDtype.equals("auto")) {
            return DataType.FLOAT32;
        }
        return switch (modelDtype.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> DataType.FLOAT32;
            case "bf16", "bfloat16" -> DataType.BFLOAT16;
            default -> throw new InvalidInputException("--model_dtype " + modelDtype + " is not supported",
                    "valid: fp32 / float32 (default), bf16 / bfloat16");
        };
    }

    /** The tokenizer's pad id, or -1 (no tokenizer or no pad token). */
    public long padTokenId() {
        return tokenizer == null ? -1 : tokenizer.padTokenId();
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
