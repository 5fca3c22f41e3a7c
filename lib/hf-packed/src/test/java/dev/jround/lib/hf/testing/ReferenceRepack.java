package dev.jround.lib.hf.testing;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Re-exports a reference (Python AutoRound) checkpoint through an exporter and compares the tensors it writes. */
public final class ReferenceRepack {

    private ReferenceRepack() {
    }

    /**
     * Streams the packed layers of reference checkpoint {@code ref}, then its other tensors, into {@code exporter}
     * (writing {@code out}) and asserts the export holds the same tensors with the same dtype, shape and bytes.
     *
     * @param src     the full-precision model the reference was quantized from
     * @param specs   the layer specs to declare, in the order the exporter should see them
     * @param options the export options (the reference's tuning settings, for its configs)
     */
    public static void assertRewritesTensors(Exporter exporter, String format, Path ref, Path src, Path out,
                                             Function<PackedCheckpoint, List<LayerSpec>> specs,
                                             Map<String, Object> options) {
        try (PackedCheckpoint ckpt = PackedCheckpoint.open(ref); SafetensorsCheckpoint source = SafetensorsCheckpoint.open(src)) {
            ExportContext ctx = ExportContext.builder().format(format).outputDir(out).config(ConfigJson.read(src))
                    .sourceDir(src).source(source).layers(specs.apply(ckpt)).blockPrefixes(List.of("model.layers"))
                    .options(options).maxShardBytes(5_000_000_000L).build();
            try (ExportSession s = exporter.open(ctx)) {
                ckpt.packedModules().forEach(m -> s.addQuantized(ckpt.layer(m)));
                ckpt.tensors().names().stream().filter(n -> !ckpt.isPackedTensor(n)).forEach(n -> s.addTensor(n, ckpt.tensors().get(n)));
                s.finish();
            }
            try (SafetensorsCheckpoint mine = SafetensorsCheckpoint.open(out)) {
                assertEquals(new TreeSet<>(ckpt.tensors().names()), new TreeSet<>(mine.names()));
                for (String n : mine.names()) {
                    HostTensor a = ckpt.tensors().get(n);
                    HostTensor b = mine.get(n);
                    assertEquals(a.dtype(), b.dtype(), n);
                    assertArrayEquals(a.shape(), b.shape(), n);
                    assertEquals(a.data(), b.data(), n + " bytes");
                }
            }
        }
    }
}
