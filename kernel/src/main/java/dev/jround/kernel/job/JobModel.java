package dev.jround.kernel.job;

import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.hub.ModelSource;
import dev.jround.kernel.model.DeviceFlag;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens the model a quantization run works on (a full-precision checkpoint: local, cached or downloaded)
 * through the kernel's {@link ModelLoader}, with the run's device and compute type.
 */
final class JobModel {

    private JobModel() {
    }

    /**
     * Stage "open": config.json (read once, by the loader), safetensors headers, shapes. The compute type is a flag,
     * so it is refused before the model is read.
     */
    static LoadedModel open(PluginRegistry registry, QuantizeRequest r) {
        DataType computeType = computeType(r.modelDtype());
        Path dir = ModelSource.fromEnvironment().resolve(r.model());
        LoadedModel m = new ModelLoader(registry, arg -> dir).load(r.model(), computeType, deviceName(r.device()), config -> {
            if (config.has("quantization_config")) {
                throw new InvalidInputException("model " + dir + " is already quantized (config.json has quantization_config)",
                        "quantize the full-precision model; 'jround eval' and 'jround generate' read quantized checkpoints");
            }
        });
        if (m.weights().names().isEmpty()) {
            // a graph run by an inference backend's own runtime has no weights to quantize or tune
            String what = m.description();
            m.close();
            throw new UnsupportedFeatureException("model " + dir + " has no weights to quantize (" + what + ")",
                    "quantize the full-precision checkpoint (config.json and *.safetensors); 'jround eval' and 'jround generate' run this one");
        }
        return m;
    }

    /** AutoRound's {@code --device 0} / {@code auto} mean "the best device"; a name picks that backend. */
    static String deviceName(String requested) {
        return DeviceFlag.backendName(requested);
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
}
