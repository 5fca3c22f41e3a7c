package dev.jround.plugin.fake;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FakeExporterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final FakeExporter exporter = new FakeExporter();

    @Test
    void writesTheDequantizedWeightsBitForBitAndNoQuantizationConfig(@TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, false, n -> n.equals("model.layers.0.mlp.up_proj") ? QuantScheme.FULL_PRECISION
                : QuantScheme.intWeightOnly(3, 32, false), true, 8);
        Path out = f.export(exporter, tmp.resolve("out"), "fake", Map.of(), Long.MAX_VALUE);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : f.quantized.values()) {
                HostTensor w = c.get(l.name() + ".weight");
                assertEquals(DType.F32, w.dtype());
                assertArrayEquals(new long[]{l.rows(), l.cols()}, w.shape());
                assertArrayEquals(l.dequantized(), w.toFloats(), l.name());
                assertFalse(c.contains(l.name() + ".qweight"));
                if (l.bias() != null) {
                    assertArrayEquals(l.bias(), c.floats(l.name() + ".bias"));
                }
            }
            for (String n : f.floats.keySet()) {
                assertEquals(f.floats.get(n).data(), c.get(n).data(), n);
            }
            assertEquals(f.quantized.size() + f.floats.size() + 2, c.names().size(), "weights, float tensors and the two biases");
        }
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertFalse(cfg.has("quantization_config"));
        assertFalse(Files.exists(out.resolve("quantization_config.json")));
        assertEquals("float32", cfg.get("dtype").asText());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
    }

    @Test
    void halfPrecisionModelsGetHalfPrecisionFakeWeights(@TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, true, n -> QuantScheme.intWeightOnly(4, 32, true), false, 4);
        String q = "model.layers.0.self_attn.k_proj";
        float[] orig = f.source.get(q + ".weight").toFloats();
        f.source.put(q + ".weight", HostTensor.ofFloats(orig, DType.BF16, 64, 64));
        Path out = f.export(exporter, tmp.resolve("out"), "fake", Map.of(), Long.MAX_VALUE);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            HostTensor w = c.get(q + ".weight");
            assertEquals(DType.BF16, w.dtype());
            float[] want = f.quantized.get(q).dequantized();
            float[] got = w.toFloats();
            for (int i = 0; i < want.length; i++) {
                assertEquals(dev.jround.spi.tensor.Floats.roundToBf16(want[i]), got[i]);
            }
        }
        assertTrue(JSON.readTree(out.resolve("config.json").toFile()).get("tie_word_embeddings").asBoolean(false) == false,
                "a quantized lm_head unties the embeddings in the fake model too");
    }

    @ParameterizedTest
    @CsvSource({"auto_round_w4g32sym, fake_w4g32sym", "auto_gptq_w3g32sym, fake_w3g32sym", "auto_awq_w4g32asym, fake_w4g32asym"})
    void reproducesTheReferenceFakeExportFromItsPackedTwin(String packed, String fake, @TempDir Path tmp) throws Exception {
        Path models = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models");
        assumeTrue(Files.isDirectory(models.resolve("aidreams260K-reference-exports")), "reference exports not present");
        Path src = models.resolve("aidreams260K");
        Path ref = models.resolve("aidreams260K-reference-exports").resolve(fake);
        Path out = tmp.resolve("out");
        try (PackedCheckpoint ckpt = PackedCheckpoint.open(models.resolve("aidreams260K-reference-exports").resolve(packed));
             SafetensorsCheckpoint source = SafetensorsCheckpoint.open(src);
             SafetensorsCheckpoint want = SafetensorsCheckpoint.open(ref)) {
            ExportContext ctx = ExportContext.builder().format("fake").outputDir(out).config(ConfigJson.read(src))
                    .sourceDir(src).source(source).layers(ckpt.linearLayers()).blockPrefixes(List.of("model.layers"))
                    .maxShardBytes(5_000_000_000L).build();
            try (ExportSession s = exporter.open(ctx)) {
                ckpt.packedModules().forEach(m -> s.addQuantized(ckpt.layer(m)));
                ckpt.tensors().names().stream().filter(n -> !ckpt.isPackedTensor(n)).forEach(n -> s.addTensor(n, ckpt.tensors().get(n)));
                s.finish();
            }
            try (SafetensorsCheckpoint mine = SafetensorsCheckpoint.open(out)) {
                assertEquals(new TreeSet<>(want.names()), new TreeSet<>(mine.names()));
                for (String n : mine.names()) {
                    assertEquals(want.info(n).orElseThrow(), mine.info(n).orElseThrow());
                    float[] a = want.floats(n);
                    float[] b = mine.floats(n);
                    for (int i = 0; i < a.length; i++) {
                        // equal as numbers; the reference keeps the original weight's sign on exact zeros
                        assertTrue(a[i] == b[i], n + "[" + i + "] " + a[i] + " vs " + b[i]);
                    }
                }
            }
        }
        assertEquals(JSON.readTree(ref.resolve("config.json").toFile()), JSON.readTree(out.resolve("config.json").toFile()));
    }
}
