package dev.jround.kernel.model;

import dev.jround.lib.safetensors.ConfigJson;
import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.data.TokenizerProvider;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.tensor.MapTensorStore;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Opens any checkpoint jround can run: a full-precision Hugging Face directory (config.json + safetensors), or a
 * quantized checkpoint (config.json with {@code quantization_config}, or a {@code .gguf} file) that one of the
 * installed {@link InferenceBackend}s presents as dequantized weights. The architecture plugin is chosen by
 * {@link ModelArchitecture#supports}, the device backend by rank, the tokenizer by the first provider that can
 * read the model's directory.
 */
public final class ModelLoader {

    private final PluginRegistry registry;
    private final Function<String, Path> resolver;
    private final String inferenceBackend;

    /** Model arguments are local paths. */
    public ModelLoader(PluginRegistry registry) {
        this(registry, Path::of);
    }

    /** @param resolver turns a model argument (local path or hub id) into a local directory or file */
    public ModelLoader(PluginRegistry registry, Function<String, Path> resolver) {
        this(registry, resolver, null);
    }

    private ModelLoader(PluginRegistry registry, Function<String, Path> resolver, String inferenceBackend) {
        this.registry = registry;
        this.resolver = resolver;
        this.inferenceBackend = inferenceBackend;
    }

    /**
     * A loader that opens models with the named inference backend's own runtime
     * ({@link InferenceBackend#openModel}) where that backend reads them, and as usual otherwise (an eval reference).
     *
     * @param backendId an installed inference backend's plugin id, or null for the usual choice
     */
    public ModelLoader withInferenceBackend(String backendId) {
        if (backendId != null) {
            named(backendId);
        }
        return new ModelLoader(registry, resolver, backendId);
    }

    /** Opens {@code model} to compute in {@code computeType} on the best available device. */
    public LoadedModel load(String model, DataType computeType) {
        return load(model, computeType, null);
    }

    /**
     * @param deviceName a backend's device name or id ({@code cpu}, {@code cuda}), or {@code null} for the
     *                   highest-ranked available one
     */
    public LoadedModel load(String model, DataType computeType, String deviceName) {
        return load(model, computeType, deviceName, config -> { });
    }

    /**
     * @param admit sees config.json (read here once, before any safetensors header) and may refuse the model, as a
     *              quantization run refuses an already quantized one
     */
    public LoadedModel load(String model, DataType computeType, String deviceName, Consumer<ModelConfig> admit) {
        Path path = resolver.apply(model);
        if (path == null || !Files.exists(path)) {
            throw new InvalidInputException("model not found: " + model,
                    "give a directory with config.json and *.safetensors, a hub id, or a checkpoint an installed inference backend reads"
                            + readsList());
        }
        if (computeType != DataType.FLOAT32 && computeType != DataType.BFLOAT16) {
            throw new InvalidInputException("compute type " + computeType + " is not supported", "use float32 or bfloat16");
        }
        ModelConfig fullPrecision = null;
        ModelConfig read = null;
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("config.json"))) {
            read = ConfigJson.read(path);
            admit.accept(read);
            // quantization_config: the HF convention; quantization: mlx-lm's (older mlx-lm writes only that one)
            fullPrecision = read.has("quantization_config") || read.has("quantization") ? null : read;
        }
        // the first backend that reads the path, asked once; a named backend is asked instead
        InferenceBackend reader = null;
        if (inferenceBackend == null && (fullPrecision == null || !hasSafetensors(path))) {
            reader = registry.all(InferenceBackend.class).stream().filter(b -> b.canLoad(path)).findFirst().orElse(null);
        } else if (inferenceBackend != null) {
            InferenceBackend b = named(inferenceBackend);
            reader = b.canLoad(path) ? b : null;
        }
        LoadedModel inRuntime = reader == null ? null : openInBackendRuntime(reader, path, read, computeType, deviceName);
        if (inRuntime != null) {
            return inRuntime;
        }
        boolean viaBackend = fullPrecision == null;
        ModelConfig config;
        TensorStore weights;
        String description;
        if (viaBackend) {
            InferenceBackend backend = reader != null && inferenceBackend == null ? reader : inferenceBackendFor(path);
            InferenceBackend.LoadedCheckpoint ckpt = backend.load(path);
            config = ckpt.config();
            weights = ckpt.weights();
            description = ckpt.description() == null || ckpt.description().isBlank()
                    ? backend.descriptor().id() : ckpt.description();
        } else {
            config = fullPrecision;
            CheckpointAudit.config(config);
            weights = SafetensorsCheckpoint.open(path);
            description = "safetensors";
        }
        CausalLM lm = null;
        Tokenizer tokenizer = null;
        try {
            ModelArchitecture arch = architectureFor(config);
            DeviceBackend device = deviceFor(deviceName);
            DeviceCheck.computeType(device, computeType);
            lm = arch.bind(config, weights, device, computeType);
            if (!viaBackend) {
                CheckpointAudit.shapes(lm, weights, config);
            }
            tokenizer = tokenizerFor(path, config);
            return new LoadedModel(path, config, arch, weights, lm, tokenizer, device,
                    arch.descriptor().id() + " " + config.modelType() + ", " + description);
        } catch (RuntimeException e) {
            if (lm != null) {
                lm.close();
            }
            weights.close();
            throw e;
        }
    }

    /** The model as {@code backend}'s own runtime runs it, or null when that backend binds weights instead. */
    private LoadedModel openInBackendRuntime(InferenceBackend backend, Path path, ModelConfig config,
                                             DataType computeType, String deviceName) {
        CausalLM lm = backend.openModel(path, config).orElse(null);
        if (lm == null) {
            return null;
        }
        Tokenizer tokenizer = null;
        try {
            ModelConfig cfg = config != null ? config : lm.config();
            ModelArchitecture arch = architectureFor(cfg);
            DeviceBackend device = deviceFor(deviceName);
            DeviceCheck.computeType(device, computeType);
            tokenizer = tokenizerFor(path, cfg);
            return new LoadedModel(path, cfg, arch, new MapTensorStore(), lm, tokenizer, device,
                    arch.descriptor().id() + " " + cfg.modelType() + ", run by " + backend.descriptor().id() + " (no weights)");
        } catch (RuntimeException e) {
            lm.close();
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw e;
        }
    }

    private static boolean hasSafetensors(Path path) {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (var files = Files.list(path)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The installed inference backend with this plugin id, or an error listing the installed ones. */
    private InferenceBackend named(String id) {
        List<InferenceBackend> backends = registry.all(InferenceBackend.class);
        return backends.stream().filter(b -> b.descriptor().id().equalsIgnoreCase(id)).findFirst()
                .orElseThrow(() -> new InvalidInputException("no installed inference backend is named '" + id + "'",
                        "installed inference backends: " + backends.stream().map(b -> b.descriptor().id()).sorted()
                                .reduce((a, b) -> a + ", " + b).orElse("none")));
    }

    InferenceBackend inferenceBackendFor(Path path) {
        List<InferenceBackend> backends = registry.all(InferenceBackend.class);
        for (InferenceBackend b : backends) {
            if (b.canLoad(path)) {
                return b;
            }
        }
        Set<String> reads = new TreeSet<>();
        backends.forEach(b -> reads.addAll(b.reads()));
        throw new UnsupportedFeatureException("no installed inference backend reads " + path,
                reads.isEmpty() ? "install an inference backend plugin (quantized checkpoints and single-file models need one)"
                        : "installed inference backends read: " + String.join(", ", reads));
    }

    /** " (reads: a, b)" for the installed inference backends, or empty. */
    private String readsList() {
        Set<String> reads = new TreeSet<>();
        registry.all(InferenceBackend.class).forEach(b -> reads.addAll(b.reads()));
        return reads.isEmpty() ? "" : " (" + String.join(", ", reads) + ")";
    }

    /** The first installed architecture that claims the config, or an error listing every supported model type. */
    public ModelArchitecture architectureFor(ModelConfig config) {
        List<ModelArchitecture> archs = registry.all(ModelArchitecture.class);
        for (ModelArchitecture a : archs) {
            if (a.supports(config)) {
                return a;
            }
        }
        Set<String> types = new TreeSet<>();
        archs.forEach(a -> types.addAll(a.modelTypes()));
        throw new UnsupportedFeatureException("unsupported architecture: model_type '" + config.modelType() + "' "
                + config.architectures() + " in " + config.directory(),
                types.isEmpty() ? "no architecture plugin is installed"
                        : "supported model types: " + String.join(", ", types));
    }

    /** The available device backend with the highest rank (optionally only those named {@code deviceName}). */
    public DeviceBackend deviceFor(String deviceName) {
        List<DeviceBackend> all = registry.all(DeviceBackend.class);
        return all.stream()
                .filter(d -> deviceName == null || d.deviceName().equalsIgnoreCase(deviceName)
                        || d.descriptor().id().equalsIgnoreCase(deviceName))
                .filter(DeviceBackend::isAvailable)
                .max(Comparator.comparingInt(DeviceBackend::rank))
                .orElseThrow(() -> {
                    List<String> names = new ArrayList<>();
                    all.forEach(d -> names.add(d.deviceName() + (d.isAvailable() ? "" : " (unavailable)")));
                    return new UnsupportedFeatureException(
                            "no available device backend" + (deviceName == null ? "" : " named '" + deviceName + "'"),
                            names.isEmpty() ? "install a device backend plugin such as pytorch-cpu"
                                    : "installed device backends: " + String.join(", ", names));
                });
    }

    /** The tokenizer from the config's directory, the model path, or (for a single file) its folder; else null. */
    Tokenizer tokenizerFor(Path path, ModelConfig config) {
        Set<Path> candidates = new LinkedHashSet<>();
        if (config.directory() != null) {
            candidates.add(config.directory());
        }
        candidates.add(Files.isDirectory(path) ? path : path.toAbsolutePath().getParent());
        for (Path dir : candidates) {
            if (dir == null) {
                continue;
            }
            for (TokenizerProvider p : registry.all(TokenizerProvider.class)) {
                if (p.canLoad(dir)) {
                    return p.load(dir);
                }
            }
        }
        return null;
    }
}
