package dev.jround.plugin.packed;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.hf.PackedCheckpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads auto_round (every integer packing), GPTQ (v1 and v2 zero points, act-order g_idx) and AWQ GEMM
 * checkpoints, and plain float ones such as the {@code fake} format, as float32 weights under the original
 * Hugging Face names. Reads what jround writes and what the Python tools (AutoRound, AutoGPTQ, GPTQModel,
 * AutoAWQ) write. Packed layers are dequantized lazily, one tensor per request.
 */
public final class PackedInferenceBackend implements InferenceBackend {

    private static final List<String> READS = List.of("auto-round", "gptq", "awq", "fake");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.INFERENCE, "packed", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "dequantizing loader for auto_round / GPTQ / AWQ / fake checkpoints",
                Map.of("reads", READS));
    }

    @Override
    public List<String> reads() {
        return READS;
    }

    @Override
    public boolean canLoad(Path path) {
        return PackedCheckpoint.readable(path);
    }

    @Override
    public LoadedCheckpoint load(Path path) {
        PackedCheckpoint ckpt = PackedCheckpoint.open(path);
        try {
            DequantizedStore store = new DequantizedStore(ckpt);
            String what = ckpt.kind() == PackedCheckpoint.Kind.FLOAT ? "float checkpoint"
                    : ckpt.kind().quantMethod() + " checkpoint (" + ckpt.packingFormat() + ", " + ckpt.layout() + "), "
                    + ckpt.packedModules().size() + " packed layers dequantized to float32";
            return new LoadedCheckpoint(ckpt.config().with("quantization_config", null).withDirectory(path), store, what);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }
}
