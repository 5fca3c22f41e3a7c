package dev.jround.cli;

import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.hub.ModelSource;
import dev.jround.kernel.model.DeviceFlag;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.spi.InvalidInputException;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The options of every command that opens models for inference ({@code generate}, {@code eval}), as a picocli
 * mixin, and the loading they control.
 */
final class ModelLoadOptions {

    @Option(names = "--model_dtype", defaultValue = "float32", description = "Compute type: float32 or bfloat16.")
    String modelDtype;

    @Option(names = {"--device", "--device_map"}, description = "Device backend: 0 or auto (the best available, default), cpu or a backend name; one device.")
    String device;

    @Option(names = "--backend", description = "Inference backend (plugin id, see 'jround plugins') that runs the models it reads in its own runtime; others load as usual.")
    String backend;

    private ModelLoader loader;

    /** Opens a model directory, quantized checkpoint, .gguf file or hub id with these options. */
    LoadedModel load(String model) {
        if (loader == null) {
            loader = loader().withInferenceBackend(backend);
        }
        return loader.load(model, computeType(modelDtype), DeviceFlag.backendName(device));
    }

    /** Local paths (directories and files such as .gguf) as they are; anything else through the Hugging Face hub. */
    static ModelLoader loader() {
        return new ModelLoader(JroundCli.registry(), arg -> {
            Path local = Path.of(arg);
            return Files.exists(local) ? local : ModelSource.fromEnvironment().resolve(arg);
        });
    }

    static DataType computeType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "float32", "fp32", "f32" -> DataType.FLOAT32;
            case "bfloat16", "bf16" -> DataType.BFLOAT16;
            default -> throw new InvalidInputException("--model_dtype " + name + " is not supported", "use float32 or bfloat16");
        };
    }
}
