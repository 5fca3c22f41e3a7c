package dev.jround.plugin.mlx;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Re-packs an MLX checkpoint into another packed format (auto_round, auto_gptq ...) without re-quantizing: the
 * codes, scales and integer zero points ({@code z = -B/S}, checked exact) go to the target exporter as they are.
 * The counterpart of lib/hf-packed's PackedConverter, which reads GPTQ/AWQ/auto_round checkpoints (and so
 * already converts those into mlx).
 */
public final class MlxConverter {

    private MlxConverter() {
    }

    /** Quantized layers re-packed and float tensors copied by {@link #convert}. */
    public record Counts(int packedLayers, int floatTensors) {
    }

    /** Writes {@code mlxDir} as {@code format} into the empty directory {@code outDir}; refuses before writing anything. */
    public static Counts convert(Path mlxDir, Exporter exporter, String format, Path outDir, long maxShardBytes) {
        try (MlxCheckpoint in = MlxCheckpoint.open(mlxDir)) {
            List<String> blocks = List.of("model.layers");
            List<LayerSpec> layers = new ArrayList<>();
            for (String n : in.tensors().names()) {
                if (!n.endsWith(".weight")) {
                    continue;
                }
                String module = n.substring(0, n.length() - ".weight".length());
                int block = blockIndex(module, blocks);
                boolean head = module.equals("lm_head") || module.endsWith(".lm_head");
                if (in.isPackedTensor(n)) {
                    MlxCheckpoint.Packed p = in.packed(module);
                    layers.add(new LayerSpec(module, p.in(), p.out(), QuantScheme.intWeightOnly(p.bits(), p.groupSize(), true), block, false, "mlx"));
                } else if ((block >= 0 || head) && in.tensors().info(n).orElseThrow().shape().length == 2) {
                    long[] shape = in.tensors().info(n).orElseThrow().shape();
                    layers.add(new LayerSpec(module, (int) shape[1], (int) shape[0], QuantScheme.FULL_PRECISION, block, false, "float"));
                }
            }
            if (layers.stream().noneMatch(LayerSpec::quantized)) {
                throw new InvalidInputException(mlxDir + " has no quantized MLX layers", "convert reads quantized MLX checkpoints");
            }
            // the exact zero points (and so sym/asym) are known once each layer is read: read them all before writing
            List<dev.jround.spi.quant.QuantizedLayer> read = new ArrayList<>();
            List<LayerSpec> resolved = new ArrayList<>();
            for (LayerSpec s : layers) {
                if (s.quantized()) {
                    var l = in.layer(s.name(), s.blockIndex());
                    read.add(l);
                    resolved.add(l.spec());
                } else {
                    resolved.add(s);
                }
            }
            for (LayerSpec s : resolved) {
                exporter.refusal(format, s).ifPresent(why -> {
                    throw new UnsupportedFeatureException("cannot convert " + mlxDir + " to " + format + ": " + why,
                            "pick a format that stores this checkpoint's scheme (jround list format)");
                });
                if (s.quantized() && s.blockIndex() < 0 && !exporter.acceptsQuantizedLmHead(format)) {
                    throw new UnsupportedFeatureException("cannot convert " + mlxDir + " to " + format + ": " + format
                            + " cannot store the quantized " + s.name(), "pick a format that stores a quantized lm_head");
                }
            }
            int floats = 0;
            ExportContext ctx = ExportContext.builder().format(format).outputDir(outDir)
                    .config(dev.jround.lib.safetensors.ConfigJson.config(mlxDir, in.plainConfig())).sourceDir(mlxDir).source(in.tensors())
                    .layers(resolved).blockPrefixes(blocks).options(Map.of()).maxShardBytes(maxShardBytes).build();
            ExportSession session = exporter.open(ctx);
            try {
                read.forEach(session::addQuantized);
                for (String n : in.tensors().names()) {
                    if (!in.isPackedTensor(n)) {
                        session.addTensor(n, in.tensors().get(n));
                        floats++;
                    }
                }
                session.finish();
            } catch (RuntimeException e) {
                session.abort();
                throw e;
            } finally {
                session.close();
            }
            return new Counts(read.size(), floats);
        }
    }

    private static int blockIndex(String module, List<String> prefixes) {
        for (String p : prefixes) {
            if (module.startsWith(p + ".")) {
                String rest = module.substring(p.length() + 1);
                int end = rest.indexOf('.');
                String idx = end < 0 ? rest : rest.substring(0, end);
                if (!idx.isEmpty() && idx.chars().allMatch(Character::isDigit)) {
                    return Integer.parseInt(idx);
                }
            }
        }
        return -1;
    }
}
