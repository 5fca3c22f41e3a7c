package dev.jround.plugin.onnxruntime;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a jround {@code onnx} export (model.onnx with genai_config.json) in ONNX Runtime on the CPU for {@code jround
 * eval} and {@code jround generate}. The graph holds no dequantized weights, so the model it opens serves logits
 * only and cannot be quantized (docs/formats.md, "onnx").
 */
public final class OnnxRuntimeBackend implements InferenceBackend {

    static final String MODEL_FILE = "model.onnx";
    private static final List<String> READS = List.of("onnx");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.INFERENCE, "onnxruntime", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "runs onnx exports in ONNX Runtime (CPU execution provider; inference only, no weights, no autograd)",
                Map.of("reads", READS));
    }

    @Override
    public List<String> reads() {
        return READS;
    }

    @Override
    public boolean canLoad(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(MODEL_FILE))
                && Files.isRegularFile(path.resolve("genai_config.json"));
    }

    @Override
    public LoadedCheckpoint load(Path path) {
        throw new UnsupportedFeatureException("the onnx export in " + path + " holds a graph, not weights jround's model code can bind",
                "run it with --backend onnxruntime ('jround eval', 'jround generate'), or load the fake export of the same run");
    }

    @Override
    public Optional<CausalLM> openModel(Path path, ModelConfig config) {
        if (!canLoad(path)) {
            return Optional.empty();
        }
        if (config == null) {
            throw new InvalidInputException("the onnx export in " + path + " has no config.json",
                    "use the directory jround's onnx exporter wrote (model.onnx, genai_config.json, config.json)");
        }
        return Optional.of(OrtCausalLM.open(path.resolve(MODEL_FILE), config));
    }
}
