package dev.jround.plugin.llmcompressor;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads llm_compressor (compressed-tensors) checkpoints, jround's and Python-written ones, as float32 weights under
 * the Hugging Face names for {@code eval} and {@code generate}; compressed layers are dequantized on request.
 */
public final class CompressedTensorsBackend implements InferenceBackend {

    private static final List<String> READS = List.of("compressed-tensors");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.INFERENCE, "compressed-tensors", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "dequantizing loader for llm_compressor (compressed-tensors int, MXFP4/MXFP8, NVFP4 and FP8) checkpoints",
                Map.of("reads", READS));
    }

    @Override
    public List<String> reads() {
        return READS;
    }

    @Override
    public boolean canLoad(Path path) {
        return CompressedTensorsCheckpoint.readable(path);
    }

    @Override
    public LoadedCheckpoint load(Path path) {
        CompressedTensorsCheckpoint ckpt = CompressedTensorsCheckpoint.open(path);
        try {
            return new LoadedCheckpoint(ConfigJson.config(path, ckpt.plainConfig()), new Dequantized(ckpt),
                    "compressed-tensors checkpoint, " + ckpt.compressedModules().size() + " compressed layers dequantized to float32");
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /** The checkpoint under its Hugging Face names: {@code <m>.weight} dequantized, the compressed parts hidden. */
    static final class Dequantized implements TensorStore {

        private final CompressedTensorsCheckpoint ckpt;
        private final List<String> names = new ArrayList<>();
        private final Map<String, String> weightToModule = new HashMap<>();

        Dequantized(CompressedTensorsCheckpoint ckpt) {
            this.ckpt = ckpt;
            for (String m : ckpt.compressedModules()) {
                weightToModule.put(m + ".weight", m);
            }
            for (String n : ckpt.tensors().names()) {
                if (!ckpt.isCompressedTensor(n)) {
                    names.add(n);
                }
            }
            names.addAll(weightToModule.keySet().stream().sorted().toList());
        }

        @Override
        public Collection<String> names() {
            return Collections.unmodifiableList(names);
        }

        @Override
        public Optional<TensorInfo> info(String name) {
            String m = weightToModule.get(name);
            if (m != null) {
                return Optional.of(new TensorInfo(name, DType.F32, ckpt.weightShape(m)));
            }
            return ckpt.isCompressedTensor(name) ? Optional.empty() : ckpt.tensors().info(name);
        }

        @Override
        public HostTensor get(String name) {
            String m = weightToModule.get(name);
            if (m != null) {
                return HostTensor.ofFloats(ckpt.layer(m, -1).dequantized(), ckpt.weightShape(m));
            }
            if (ckpt.isCompressedTensor(name)) {
                throw new IllegalArgumentException("tensor " + name + " is part of a compressed layer; ask for "
                        + name.substring(0, name.lastIndexOf('.')) + ".weight");
            }
            return ckpt.tensors().get(name);
        }

        @Override
        public void close() {
            ckpt.close();
        }
    }
}
