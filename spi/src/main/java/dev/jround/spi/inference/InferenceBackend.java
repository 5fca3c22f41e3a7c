package dev.jround.spi.inference;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Path;

/**
 * Loads an exported checkpoint back for generation and evaluation. A backend presents the checkpoint
 * as a {@link TensorStore} of dequantized weights under the original Hugging Face names, together
 * with the plain model config, so any architecture plugin can run it.
 */
public interface InferenceBackend extends JroundPlugin {

    /** The quantization methods / file kinds it reads (e.g. {@code auto-round}, {@code gptq}, {@code awq}, {@code gguf}). */
    java.util.List<String> reads();

    /** Whether the path (a directory or file) is a checkpoint this backend reads. */
    boolean canLoad(Path path);

    LoadedCheckpoint load(Path path);

    /**
     * Opens the checkpoint at {@code path} as a runnable model in the backend's own runtime, for checkpoints that
     * hold a compute graph instead of weights (an ONNX export). Such a model serves {@link CausalLM#logits} only;
     * the kernel refuses it for quantization. {@code config} is the directory's config.json, or null.
     *
     * @return empty when this backend presents checkpoints through {@link #load} instead (the default)
     */
    default java.util.Optional<CausalLM> openModel(Path path, ModelConfig config) {
        return java.util.Optional.empty();
    }

    /**
     * Writes a human-readable description of the checkpoint at {@code path} (header, metadata, tensor table)
     * for {@code jround inspect}, truncating long metadata arrays to {@code maxArrayItems} items.
     *
     * @return false when this backend does not describe such files (the default)
     */
    default boolean inspect(Path path, java.io.PrintWriter out, int maxArrayItems) {
        return false;
    }

    /**
     * Re-packs the quantized checkpoint at {@code path} into {@code format} without re-quantizing, for {@code jround
     * convert}: drives {@code exporter} (refusal checks first, then open, addQuantized with the checkpoint's own
     * codes, scales and zero points, addTensor for the rest, finish) into the empty directory {@code outDir}.
     * Unrepresentable input is refused before anything is written.
     *
     * @return empty when this backend does not re-pack the checkpoints it reads (the default)
     */
    default java.util.Optional<Repacked> repack(Path path, dev.jround.spi.export.Exporter exporter, String format,
                                                Path outDir, long maxShardBytes) {
        return java.util.Optional.empty();
    }

    /** What {@link #repack} wrote: quantized layers re-packed, float tensors copied, and the source's kind in words. */
    record Repacked(int packedLayers, int floatTensors, String sourceDescription) {
    }

    /** A loaded checkpoint: its config (quantization_config removed) and dequantized weights. */
    record LoadedCheckpoint(ModelConfig config, TensorStore weights, String description) implements AutoCloseable {
        @Override
        public void close() {
            weights.close();
        }
    }
}
