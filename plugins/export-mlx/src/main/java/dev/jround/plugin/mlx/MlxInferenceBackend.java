package dev.jround.plugin.mlx;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.Exporter;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads MLX affine checkpoints (jround's {@code mlx} and {@code auto_round:mlx}, mlx-lm's own) for {@code jround
 * eval/generate}: every quantized module's {@code weight} is decoded as MLX does ({@code S*q + B}, float32) under its
 * Hugging Face name; {@code scales}/{@code biases} are hidden; everything else is served as stored.
 */
public final class MlxInferenceBackend implements InferenceBackend {

    private static final List<String> READS = List.of("mlx");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.INFERENCE, "mlx", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "dequantizing loader for MLX affine checkpoints (mlx, auto_round:mlx, mlx-lm's own)", Map.of("reads", READS));
    }

    @Override
    public List<String> reads() {
        return READS;
    }

    @Override
    public boolean canLoad(Path path) {
        return MlxCheckpoint.readable(path);
    }

    @Override
    public LoadedCheckpoint load(Path path) {
        MlxCheckpoint ckpt = MlxCheckpoint.open(path);
        try {
            return new LoadedCheckpoint(ConfigJson.config(path, ckpt.plainConfig()), new DecodedStore(ckpt),
                    "MLX affine checkpoint, " + ckpt.packedModules().size() + " quantized layers decoded to float32");
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    @Override
    public Optional<Repacked> repack(Path path, Exporter exporter, String format, Path outDir, long maxShardBytes) {
        if (!canLoad(path)) {
            return Optional.empty();
        }
        MlxConverter.Counts c = MlxConverter.convert(path, exporter, format, outDir, maxShardBytes);
        return Optional.of(new Repacked(c.packedLayers(), c.floatTensors(), "MLX affine"));
    }

    /** The checkpoint under Hugging Face names, quantized weights decoded on request. */
    static final class DecodedStore implements TensorStore {

        private final MlxCheckpoint ckpt;
        private final List<String> names = new ArrayList<>();

        DecodedStore(MlxCheckpoint ckpt) {
            this.ckpt = ckpt;
            for (String n : ckpt.tensors().names()) {
                if (!ckpt.isPackedTensor(n) || n.endsWith(".weight")) {
                    names.add(n);
                }
            }
        }

        private Optional<MlxCheckpoint.Packed> packedWeight(String name) {
            if (!name.endsWith(".weight") || !ckpt.isPackedTensor(name)) {
                return Optional.empty();
            }
            return Optional.of(ckpt.packed(name.substring(0, name.length() - ".weight".length())));
        }

        @Override
        public Collection<String> names() {
            return Collections.unmodifiableList(names);
        }

        @Override
        public Optional<TensorInfo> info(String name) {
            Optional<MlxCheckpoint.Packed> p = packedWeight(name);
            if (p.isPresent()) {
                return Optional.of(new TensorInfo(name, DType.F32, new long[]{p.get().out(), p.get().in()}));
            }
            return ckpt.isPackedTensor(name) ? Optional.empty() : ckpt.tensors().info(name);
        }

        @Override
        public HostTensor get(String name) {
            Optional<MlxCheckpoint.Packed> p = packedWeight(name);
            if (p.isPresent()) {
                return HostTensor.ofFloats(ckpt.dequantize(p.get().module()), p.get().out(), p.get().in());
            }
            if (ckpt.isPackedTensor(name)) {
                throw new IllegalArgumentException("tensor " + name + " is part of a quantized MLX layer; ask for "
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
