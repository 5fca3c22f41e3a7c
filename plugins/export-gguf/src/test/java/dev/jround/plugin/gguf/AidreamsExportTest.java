package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.Floats;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * aidreams260K (../shared): reads the reference AutoRound GGUF files and compares jround's exports with them.
 * Exports are left in target/gguf-export for tools/fixtures/gguf/check_gguf.py.
 */
class AidreamsExportTest {

    static Path shared;
    static Path model;
    static Path refs;
    static Path out;

    @BeforeAll
    static void locate() throws IOException {
        String s = System.getProperty("jround.shared");
        shared = s == null ? null : Path.of(s);
        model = shared == null ? null : shared.resolve("models/aidreams260K");
        refs = shared == null ? null : shared.resolve("models/aidreams260K-reference-exports");
        out = Path.of("target", "gguf-export");
        Files.createDirectories(out);
    }

    static void assumeShared() {
        assumeTrue(model != null && Files.isDirectory(model), "../shared/models/aidreams260K is not available");
    }

    static Path refFile(String mix) {
        return refs.resolve("gguf_" + mix).resolve("aidreams260K-231K-" + mix.toUpperCase() + ".gguf");
    }

    /** Exports aidreams260K in the given mix, like the kernel does: norms and embeddings via addTensor, linears quantized. */
    static Path export(String mix, Map<String, Object> options, boolean sendLinearsAsTensors) throws IOException {
        Path dir = out.resolve(mix + (options.isEmpty() ? "" : "-" + options.values().iterator().next()));
        Files.createDirectories(dir);
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            ModelConfig cfg = ConfigJson.read(model);
            ExportContext ctx = ExportContext.builder().format("gguf:" + mix).outputDir(dir).config(cfg).sourceDir(model)
                    .source(src).blockPrefixes(List.of("model.layers")).options(options).layout(Layouts.of(cfg)).build();
            GgufExporter exporter = new GgufExporter();
            try (ExportSession session = exporter.open(ctx)) {
                for (String name : src.names()) {
                    boolean linear = name.contains("_proj.");
                    if (!linear || sendLinearsAsTensors) {
                        session.addTensor(name, src.get(name));
                    }
                }
                session.finish();
            }
        }
        try (var files = Files.list(dir)) {
            List<Path> g = files.filter(p -> p.toString().endsWith(".gguf")).toList();
            assertEquals(1, g.size(), "one .gguf in " + dir + ": " + g);
            return g.get(0);
        }
    }

    static String sha256(float[] v) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] b = new byte[v.length * 4];
        for (int i = 0; i < v.length; i++) {
            int x = Float.floatToRawIntBits(v[i]);
            b[4 * i] = (byte) x;
            b[4 * i + 1] = (byte) (x >>> 8);
            b[4 * i + 2] = (byte) (x >>> 16);
            b[4 * i + 3] = (byte) (x >>> 24);
        }
        StringBuilder s = new StringBuilder();
        for (byte x : md.digest(b)) s.append(String.format("%02x", x & 0xFF));
        return s.toString();
    }

    @Test
    void referenceFilesDecodeExactlyAsTheGgufPackageDoes() throws Exception {
        assumeShared();
        Map<String, String[]> expected = new HashMap<>();
        try (InputStream in = getClass().getResourceAsStream("/gguf/reference-dequant.tsv")) {
            assertNotNull(in);
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] f = line.split("\t");
                expected.put(f[0] + "/" + f[1], f);
            }
        }
        int checked = 0;
        for (String mix : new String[]{"q4_0", "q4_k_m"}) {
            Path p = refFile(mix);
            try (GgufFile g = GgufFile.open(p)) {
                assertEquals(3, g.version());
                assertEquals(38, g.tensors().size());
                assertEquals("llama", g.getString("general.architecture", null));
                assertEquals(mix.equals("q4_0") ? 2 : 15, g.getLong("general.file_type", -1));
                assertEquals(GgufValueType.UINT32, g.get("llama.block_count").type());
                assertEquals(GgufValueType.FLOAT32, g.get("llama.attention.layer_norm_rms_epsilon").type());
                assertEquals(512, g.get("tokenizer.ggml.tokens").list().size());
                for (GgufTensorInfo t : g.tensors()) {
                    String[] e = expected.get(p.getFileName() + "/" + t.name());
                    assertNotNull(e, t.name());
                    assertEquals(e[2], t.type().name(), t.name());
                    assertEquals(e[4], sha256(g.dequantize(t)), "dequantized " + t.name() + " of " + p.getFileName());
                    checked++;
                }
            }
        }
        assertEquals(76, checked);
    }

    @Test
    void q4_0ExportMatchesTheReferenceLayout() throws Exception {
        assumeShared();
        Path ours = export("q4_0", Map.of("disable_opt_rtn", true), true);
        assertEquals("aidreams260K-231K-Q4_0.gguf", ours.getFileName().toString());
        try (GgufFile a = GgufFile.open(ours); GgufFile r = GgufFile.open(refFile("q4_0"))) {
            assertEquals(names(r), names(a), "tensor order");
            for (GgufTensorInfo t : r.tensors()) {
                GgufTensorInfo u = a.tensor(t.name());
                assertEquals(t.type(), u.type(), t.name());
                assertArrayEquals(t.ne(), u.ne(), t.name());
                assertEquals(t.offset(), u.offset(), t.name());
            }
            assertEquals(r.metadata().keySet(), a.metadata().keySet(), "metadata keys");
            for (String k : r.metadata().keySet()) {
                GgufValue rv = r.get(k);
                GgufValue av = a.get(k);
                assertEquals(rv.typeName(), av.typeName(), k);
                if (!k.equals("tokenizer.ggml.scores")) {
                    assertEquals(rv.value(), av.value(), k);
                }
            }
            // embeddings (Q8_0) and the F16 ffn_down are plain llama.cpp encodings in both files
            for (GgufTensorInfo t : r.tensors()) {
                if (t.type() == GgmlType.Q8_0 || t.type() == GgmlType.F16 || t.type() == GgmlType.F32) {
                    assertArrayEquals(r.rawBytes(t), a.rawBytes(a.tensor(t.name())), t.name());
                }
            }
        }
    }

    private static List<String> names(GgufFile f) {
        return f.tensors().stream().map(GgufTensorInfo::name).toList();
    }

    @Test
    void q4KmAndQ2KsExportsHaveTheMixturesTypes() throws Exception {
        assumeShared();
        Path ours = export("q4_k_m", Map.of(), true);
        try (GgufFile a = GgufFile.open(ours); GgufFile r = GgufFile.open(refFile("q4_k_m"))) {
            for (GgufTensorInfo t : r.tensors()) {
                assertEquals(t.type(), a.tensor(t.name()).type(), t.name());
            }
            assertEquals(15L, a.getLong("general.file_type", -1));
        }
        Path q2 = export("q2_k_s", Map.of(), false);
        try (GgufFile a = GgufFile.open(q2)) {
            assertEquals(21L, a.getLong("general.file_type", -1));
            for (GgufTensorInfo t : a.tensors()) {
                GgmlType want = t.ne().length == 1 ? GgmlType.F32 : t.name().equals("token_embd.weight") ? GgmlType.Q8_0
                        : t.name().contains("ffn_down") ? GgmlType.F16 : GgmlType.Q4_0;
                assertEquals(want, t.type(), t.name());
            }
        }
    }

    @Test
    void pipelineLayersOnTheQ4_0GridAreWrittenExactlyAndLoadBack() throws Exception {
        assumeShared();
        Path dir = out.resolve("q4_0-tuned");
        Files.createDirectories(dir);
        Map<String, float[]> fake = new HashMap<>();
        Path file;
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            ModelConfig cfg = ConfigJson.read(model);
            ExportContext ctx = ExportContext.builder().format("gguf:q4_0").outputDir(dir).config(cfg).sourceDir(model)
                    .source(src).blockPrefixes(List.of("model.layers")).layout(Layouts.of(cfg)).build();
            Set<String> quantized = new HashSet<>();
            try (ExportSession session = new GgufExporter().open(ctx)) {
                for (String name : src.names()) {
                    if (name.contains("_proj.") && !name.contains("down_proj")) {
                        String layer = name.substring(0, name.length() - ".weight".length());
                        long[] shape = src.get(name).shape();
                        QuantizedLayer q = rtnW4G32(layer, src.floats(name), (int) shape[0], (int) shape[1]);
                        fake.put(name, q.dequantized());
                        session.addQuantized(q);
                        quantized.add(name);
                    }
                }
                session.finish();
            }
            try (var files = Files.list(dir)) {
                file = files.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
            }
            InferenceBackend backend = new GgufInferenceBackend();
            assertTrue(backend.canLoad(file));
            assertTrue(backend.canLoad(dir));
            try (InferenceBackend.LoadedCheckpoint ck = backend.load(file)) {
                assertEquals("llama", ck.config().modelType());
                assertEquals(64, ck.config().requireInt("hidden_size"));
                assertEquals(172, ck.config().requireInt("intermediate_size"));
                assertEquals(512, ck.config().requireInt("vocab_size"));
                assertEquals(16, ck.config().requireInt("head_dim"));
                assertTrue(ck.config().getBoolean("tie_word_embeddings", false));
                assertFalse(ck.weights().contains("lm_head.weight"));
                for (String name : quantized) {
                    // the pipeline's fake-quantized weights come back bit for bit, q/k permuted back to HF order
                    CodecFixtureTest.assertBitsEqual(fake.get(name), ck.weights().floats(name), name);
                }
                float[] src0 = src.floats("model.layers.0.mlp.down_proj.weight");
                float[] got0 = ck.weights().floats("model.layers.0.mlp.down_proj.weight");
                for (int i = 0; i < src0.length; i++) assertEquals(Floats.roundToF16(src0[i]), got0[i], 0f);
                assertArrayEquals(src.floats("model.norm.weight"), ck.weights().floats("model.norm.weight"));
                assertEquals(src.names().size(), ck.weights().names().size());
            }
        }
    }

    /** Symmetric 4-bit RTN with fp16 scales, as a pipeline would hand it over (codes unsigned, zero 8). */
    static QuantizedLayer rtnW4G32(String name, float[] w, int rows, int cols) {
        int groups = rows * cols / 32;
        int[] codes = new int[w.length];
        float[] scales = new float[groups];
        int[] zeros = new int[groups];
        float[] deq = new float[w.length];
        for (int g = 0; g < groups; g++) {
            float max = 0;
            for (int j = 0; j < 32; j++) if (Math.abs(w[32 * g + j]) > Math.abs(max)) max = w[32 * g + j];
            float s = Floats.roundToF16(max / -8);
            scales[g] = s;
            zeros[g] = 8;
            for (int j = 0; j < 32; j++) {
                int q = s == 0 ? 0 : Math.max(-8, Math.min(7, (int) Math.rint(w[32 * g + j] / s)));
                codes[32 * g + j] = q + 8;
                deq[32 * g + j] = q * s;
            }
        }
        LayerSpec spec = new LayerSpec(name, cols, rows, QuantScheme.intWeightOnly(4, 32, true), 0, false, "test");
        return QuantizedLayer.ofGrid(spec, 32, codes, scales, zeros, deq, null);
    }
}
