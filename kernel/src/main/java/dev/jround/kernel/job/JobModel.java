package dev.jround.kernel.job;

import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.data.TokenizerProvider;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.SafetensorsCheckpoint;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The model a quantization run works on: its directory, config, memory-mapped weights, the bound
 * {@link CausalLM}, the tokenizer (if one is installed and the model has one) and the device backend.
 */
public record JobModel(Path directory, ModelConfig config, TensorStore weights, CausalLM lm, Tokenizer tokenizer,
                       DeviceBackend device) implements AutoCloseable {

    public static JobModel open(PluginRegistry registry, QuantizeRequest r) {
        Path dir = ModelLocator.resolve(r.model);
        ModelConfig config = ModelConfig.read(dir);
        if (config.has("quantization_config")) {
            throw new InvalidInputException("model " + dir + " is already quantized (config.json has quantization_config)",
                    "quantize the full-precision model; 'jround eval' and 'jround generate' read quantized checkpoints");
        }
        ModelArchitecture arch = architectureFor(registry, config);
        DeviceBackend device = deviceFor(registry, r.device);
        DataType compute = computeType(r.modelDtype);
        TensorStore weights = SafetensorsCheckpoint.open(dir);
        CausalLM lm;
        try {
            lm = arch.bind(config, weights, device, compute);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
        Tokenizer tok = null;
        for (TokenizerProvider p : registry.all(TokenizerProvider.class)) {
            if (p.canLoad(dir)) {
                tok = p.load(dir);
                break;
            }
        }
        return new JobModel(dir, config, weights, lm, tok, device);
    }

    static ModelArchitecture architectureFor(PluginRegistry registry, ModelConfig config) {
        List<ModelArchitecture> archs = registry.all(ModelArchitecture.class);
        for (ModelArchitecture a : archs) {
            if (a.supports(config)) {
                return a;
            }
        }
        TreeSet<String> types = new TreeSet<>();
        archs.forEach(a -> types.addAll(a.modelTypes()));
        throw new UnsupportedFeatureException("unsupported architecture: model_type '" + config.modelType() + "' "
                + config.architectures() + " in " + config.directory(),
                "supported model types: " + String.join(", ", types) + " (an architecture plugin can add more)");
    }

    static DeviceBackend deviceFor(PluginRegistry registry, String requested) {
        String want = requested == null ? "cpu" : requested.toLowerCase(Locale.ROOT).trim();
        List<DeviceBackend> all = registry.all(DeviceBackend.class);
        // AutoRound's "0" means the first accelerator; jround falls back to the best available backend.
        boolean any = want.isEmpty() || want.equals("auto") || want.matches("\\d+(,\\d+)*");
        return all.stream()
                .filter(d -> any || d.deviceName().equalsIgnoreCase(want) || d.descriptor().id().equalsIgnoreCase(want))
                .filter(DeviceBackend::isAvailable)
                .max(Comparator.comparingInt(DeviceBackend::rank))
                .orElseThrow(() -> new UnsupportedFeatureException("no available device backend for --device " + requested,
                        "installed backends: " + all.stream().map(d -> d.deviceName() + (d.isAvailable() ? "" : " (unavailable)")).toList()));
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

    /** Where a {@code --model} argument points: a local directory, or (later) the Hub cache. */
    static final class ModelLocator {
        private ModelLocator() {
        }

        static Path resolve(String model) {
            Path p = Path.of(model);
            if (Files.isDirectory(p)) {
                return p;
            }
            throw new InvalidInputException("model not found: " + model,
                    "give a local directory with config.json and *.safetensors, or a Hugging Face repo id present in the local cache");
        }
    }
}
