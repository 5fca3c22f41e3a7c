package dev.jround.plugin.mlx;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsFile;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.MapTensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MlxExporterTest {

    @TempDir
    Path tmp;

    private final MlxExporter exporter = new MlxExporter();

    /** One layer per (bits, group, sym), in 256, exported with the given model dtype. */
    private Path exportMatrix(String dtype, List<QuantizedLayer> layers) throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src-" + dtype));
        ObjectNode cfg = new ObjectMapper().createObjectNode();
        cfg.put("model_type", "llama");
        cfg.put("dtype", dtype);
        cfg.put("tie_word_embeddings", false);
        Files.writeString(src.resolve("config.json"), cfg.toString());
        Random r = new Random(7);
        int i = 0;
        List<LayerSpec> specs = new ArrayList<>();
        for (int bits : new int[]{2, 3, 4, 5, 6, 8}) {
            for (int group : new int[]{32, 64, 128}) {
                for (boolean sym : new boolean[]{true, false}) {
                    LayerSpec s = new LayerSpec("model.layers." + i + ".mlp.up_proj", 256, 6, QuantScheme.intWeightOnly(bits, group, sym), i, false, "test");
                    specs.add(s);
                    layers.add(ExportFixture.randomLayer(s, null, true, r));
                    i++;
                }
            }
        }
        Path out = tmp.resolve("out-" + dtype);
        ExportContext ctx = ExportContext.builder().format("mlx").outputDir(out).config(ConfigJson.config(src, cfg)).sourceDir(src)
                .source(new MapTensorStore()).layers(specs).blockPrefixes(List.of("model.layers")).options(Map.of()).build();
        for (LayerSpec s : specs) {
            assertEquals(Optional.empty(), exporter.refusal("mlx", s), s.toString());
        }
        try (ExportSession session = exporter.open(ctx)) {
            layers.forEach(session::addQuantized);
            session.finish();
        }
        return out;
    }

    @Test
    void everyWidthGroupAndSignDecodesToJroundsDequantizedWeightsExactlyInFloat32() throws IOException {
        List<QuantizedLayer> layers = new ArrayList<>();
        Path out = exportMatrix("float32", layers);
        JsonNode q = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization");
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : layers) {
                int bits = l.bits();
                HostTensor w = ck.get(l.name() + ".weight");
                assertEquals(DType.U32, w.dtype());
                assertArrayEquals(new long[]{l.rows(), l.cols() * bits / 32}, w.shape());
                HostTensor s = ck.get(l.name() + ".scales");
                HostTensor b = ck.get(l.name() + ".biases");
                long[] groups = {l.rows(), l.cols() / l.grid().groupSize()};
                assertArrayEquals(groups, s.shape());
                assertArrayEquals(groups, b.shape());
                assertEquals(DType.F32, s.dtype());
                assertArrayEquals(l.dequantized(), MlxReferenceDecoder.dequantize(w, s, b, bits), 0f, l.name() + " " + l.spec().scheme());
                int[][] codes = MlxReferenceDecoder.codes(w, bits);
                for (int r = 0; r < l.rows(); r++) {
                    for (int c = 0; c < l.cols(); c++) {
                        assertEquals(l.grid().codes()[r * l.cols() + c], codes[r][c]);
                    }
                }
                assertEquals(bits, q.get(l.name()).get("bits").asInt());
                assertEquals(l.grid().groupSize(), q.get(l.name()).get("group_size").asInt());
            }
        }
    }

    @Test
    void halfPrecisionScalesAndBiasesDecodeWithinHalfAnUlpOfTheBias() throws IOException {
        List<QuantizedLayer> layers = new ArrayList<>();
        Path out = exportMatrix("float16", layers);
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : layers) {
                HostTensor s = ck.get(l.name() + ".scales");
                HostTensor b = ck.get(l.name() + ".biases");
                assertEquals(DType.F16, s.dtype());
                assertEquals(DType.F16, b.dtype());
                float[] w = MlxReferenceDecoder.dequantize(ck.get(l.name() + ".weight"), s, b, l.bits());
                float[] bias = b.toFloats();
                int g = l.grid().groupSize();
                int groups = l.cols() / g;
                for (int i = 0; i < w.length; i++) {
                    float bi = Math.abs(bias[(i / l.cols()) * groups + (i % l.cols()) / g]);
                    float halfUlp = (Floats.roundToF16(Math.nextUp(bi) * 1.001f) - bi) / 2 + Math.ulp(Math.abs(w[i])) * 2;
                    assertEquals(l.dequantized()[i], w[i], Math.max(halfUlp, 1e-7f), l.name() + " element " + i);
                }
            }
        }
    }

    @Test
    void theBitStreamMatchesMlxsExtractorOnKnownValues() {
        int[] ramp = new int[32];
        for (int i = 0; i < 32; i++) {
            ramp[i] = i % 8;
        }
        assertEquals(0x76543210, MlxPacking.pack(ramp, 1, 32, 4)[0]);
        assertEquals("88c6fa", firstBytes(MlxPacking.pack(ramp, 1, 32, 3), 3));
        assertEquals("2088418a39", firstBytes(MlxPacking.pack(ramp, 1, 32, 5), 5));
        int[] ramp4 = new int[32];
        for (int i = 0; i < 32; i++) {
            ramp4[i] = i % 4;
        }
        assertEquals("40200c", firstBytes(MlxPacking.pack(ramp4, 1, 32, 6), 3));
        for (int bits : new int[]{2, 3, 4, 5, 6, 8}) {
            Random r = new Random(bits);
            int[] codes = new int[3 * 64];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = r.nextInt(1 << bits);
            }
            assertArrayEquals(codes, MlxPacking.unpack(MlxPacking.pack(codes, 3, 64, bits), 3, 64, bits));
        }
    }

    private static String firstBytes(int[] words, int n) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(words.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(words);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02x", b.get(i) & 0xFF));
        }
        return sb.toString();
    }

    private static QuantScheme w4g32(String name) {
        return name.contains("down_proj") || name.equals("lm_head") ? QuantScheme.FULL_PRECISION
                : name.contains("q_proj") ? QuantScheme.intWeightOnly(8, 64, false) : QuantScheme.intWeightOnly(4, 32, true);
    }

    @Test
    void configListsEveryQuantizedLayerFalseForQuantizableFloatOnesAndFlattensRope() throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, MlxExporterTest::w4g32, true, 3);
        Path out = f.export(exporter, tmp.resolve("mlx"), "mlx", Map.of(), 0);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        JsonNode q = cfg.get("quantization");
        assertEquals(4, q.get("bits").asInt());
        assertEquals(32, q.get("group_size").asInt());
        assertEquals(8, q.get("model.layers.0.self_attn.q_proj").get("bits").asInt());
        assertEquals(64, q.get("model.layers.0.self_attn.q_proj").get("group_size").asInt());
        assertEquals(4, q.get("model.layers.1.self_attn.k_proj").get("bits").asInt());
        // embeddings 128x64 and the float head would be quantized by mlx-lm: false; down_proj (out 64, in 96) too
        assertTrue(q.get("model.embed_tokens").isBoolean() && !q.get("model.embed_tokens").asBoolean());
        assertFalse(q.get("lm_head").asBoolean(true));
        assertFalse(q.get("model.layers.0.mlp.down_proj").asBoolean(true));
        assertEquals(q, cfg.get("quantization_config"));
        assertFalse(Files.exists(out.resolve("quantization_config.json")));
        try (SafetensorsFile sf = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals("mlx", sf.metadata().get("format"));
            assertFalse(sf.names().stream().anyMatch(n -> n.startsWith("lm_head.")), "tied head: no lm_head tensors");
            assertEquals(DType.F32, sf.info("model.layers.0.mlp.down_proj.weight").orElseThrow().dtype());
            assertEquals(DType.F32, sf.info("model.layers.0.self_attn.q_proj.bias").orElseThrow().dtype());
        }
    }

    @Test
    void ropeParametersAreLiftedBesideTheOtherKeysAtEveryLevel() throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode flat = (ObjectNode) om.readTree("{\"rope_parameters\": {\"rope_theta\": 500000.0, \"rope_type\": \"default\"}}");
        MlxExportSession.flattenRopeParameters(flat);
        assertEquals(om.readTree("{\"rope_theta\": 500000.0, \"rope_type\": \"default\"}"), flat);
        ObjectNode byMode = (ObjectNode) om.readTree("{\"rope_theta\": 1.0, \"text_config\": {\"rope_parameters\": "
                + "{\"sliding\": {\"rope_theta\": 10000.0}, \"default\": {\"rope_theta\": 1000000.0, \"factor\": 8.0}}}}");
        MlxExportSession.flattenRopeParameters(byMode);
        assertEquals(om.readTree("{\"rope_theta\": 1.0, \"text_config\": {\"rope_theta\": 1000000.0, \"factor\": 8.0}}"), byMode);
    }

    @Test
    void autoRoundMlxCarriesAnAutoRoundQuantizationConfigAndAQuantizedUntiedHead() throws IOException {
        ExportFixture f = new ExportFixture(tmp, false, n -> n.contains("down_proj") ? QuantScheme.FULL_PRECISION
                : QuantScheme.intWeightOnly(n.equals("lm_head") ? 8 : 4, 64, false), true, 4);
        Path out = f.export(exporter, tmp.resolve("ar"), "auto_round:mlx", Map.of(), 0);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        JsonNode qc = cfg.get("quantization_config");
        assertEquals("auto-round", qc.get("quant_method").asText());
        assertEquals("mlx", qc.get("packing_format").asText());
        assertEquals(4, qc.get("bits").asInt());
        assertEquals(64, qc.get("group_size").asInt());
        assertFalse(qc.get("sym").asBoolean());
        assertEquals(16, qc.get("extra_config").get("model.layers.0.mlp.down_proj").get("bits").asInt());
        assertEquals(8, qc.get("extra_config").get("lm_head").get("bits").asInt());
        assertEquals(8, cfg.get("quantization").get("lm_head").get("bits").asInt());
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(out)) {
            QuantizedLayer head = f.quantized.get("lm_head");
            assertArrayEquals(head.dequantized(), MlxReferenceDecoder.dequantize(ck.get("lm_head.weight"), ck.get("lm_head.scales"),
                    ck.get("lm_head.biases"), 8), 0f);
        }
    }

    @Test
    void refusalsNameTheLayerAndTheRule() {
        record Case(QuantScheme scheme, int in, String says) {
        }
        List<Case> cases = List.of(
                new Case(QuantScheme.intWeightOnly(7, 32, true), 64, "7-bit"),
                new Case(QuantScheme.intWeightOnly(4, -1, true), 64, "per-channel"),
                new Case(QuantScheme.intWeightOnly(4, 16, true), 64, "32, 64 or 128"),
                new Case(QuantScheme.intWeightOnly(4, 256, true), 256, "32, 64 or 128"),
                new Case(QuantScheme.intWeightOnly(3, 64, true), 96, "divisible by the group size 64"),
                new Case(QuantScheme.intWeightOnly(1, 32, true), 64, "not 1-bit"),
                new Case(QuantScheme.intWeightOnly(4, 32, true).withDataType("fp8_e4m3"), 64, "data_type"));
        for (Case c : cases) {
            LayerSpec s = new LayerSpec("model.layers.3.mlp.down_proj", c.in(), 64, c.scheme(), 3, false, "test");
            String why = exporter.refusal("mlx", s).orElseThrow(() -> new AssertionError("no refusal for " + c));
            assertTrue(why.contains("model.layers.3.mlp.down_proj"), why);
            assertTrue(why.contains(c.says()), why);
        }
        assertEquals(Optional.empty(), exporter.refusal("mlx",
                new LayerSpec("x", 96, 64, QuantScheme.FULL_PRECISION, 0, false, "float layers are always fine")));
    }

    @Test
    void theReaderRecoversCodesScalesAndZerosExactlyAndDecodesLikeMlx() throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, MlxExporterTest::w4g32, true, 5);
        Path out = f.export(exporter, tmp.resolve("mlx"), "mlx", Map.of(), 0);
        assertTrue(MlxCheckpoint.readable(out));
        try (MlxCheckpoint ck = MlxCheckpoint.open(out)) {
            assertEquals(f.quantized.size(), ck.packedModules().size());
            for (QuantizedLayer l : f.quantized.values()) {
                QuantizedLayer back = ck.layer(l.name(), l.spec().blockIndex());
                assertArrayEquals(l.grid().codes(), back.grid().codes());
                assertArrayEquals(l.grid().scales(), back.grid().scales());
                assertArrayEquals(l.grid().zeros(), back.grid().zeros());
                assertEquals(l.spec().scheme().sym(), back.spec().scheme().sym(), l.name());
                assertArrayEquals(l.dequantized(), back.dequantized(), 0f);
                assertArrayEquals(l.dequantized(), ck.dequantize(l.name()), 0f);
            }
        }
        try (var store = new MlxInferenceBackend().load(out).weights()) {
            String q = "model.layers.0.self_attn.q_proj.weight";
            assertEquals(DType.F32, store.info(q).orElseThrow().dtype());
            assertArrayEquals(f.quantized.get("model.layers.0.self_attn.q_proj").dequantized(), store.get(q).toFloats(), 0f);
            assertFalse(store.names().contains("model.layers.0.self_attn.q_proj.scales"));
        }
    }

    @Test
    void mlxLmsOwnMinMaxBiasesDecodeButRefuseExactConversion() throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, MlxExporterTest::w4g32, true, 6);
        Path out = f.export(exporter, tmp.resolve("mlx"), "mlx", Map.of(), 0);
        // rewrite one module's biases as mlx-lm's quantizer would: an edge value, not -scale*integer
        String m = "model.layers.1.self_attn.v_proj";
        Map<String, HostTensor> all = new java.util.LinkedHashMap<>();
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(out)) {
            for (String n : ck.names()) {
                all.put(n, ck.get(n));
            }
        }
        float[] b = all.get(m + ".biases").toFloats();
        b[3] += 0.3f * all.get(m + ".scales").toFloats()[3];
        all.put(m + ".biases", HostTensor.ofFloats(b, all.get(m + ".biases").shape()));
        Files.delete(out.resolve("model.safetensors"));
        dev.jround.lib.safetensors.SafetensorsWriter.writeAll(out, all, Map.of("format", "mlx"));
        try (MlxCheckpoint ck = MlxCheckpoint.open(out)) {
            float[] w = ck.dequantize(m);
            assertEquals(f.quantized.get(m).dequantized().length, w.length);
            UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> ck.layer(m, 1));
            assertTrue(e.getMessage().contains(m + " (row 1, group 1)"), e.getMessage());
        }
    }

    @Test
    void badMlxCheckpointsAreRefusedWithOneClearErrorBeforeAnyTensorIsRead() throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, MlxExporterTest::w4g32, true, 8);
        Path out = f.export(exporter, tmp.resolve("mlx"), "mlx", Map.of(), 0);
        ObjectMapper om = new ObjectMapper();
        String cfg = Files.readString(out.resolve("config.json"));
        String q = "model.layers.0.self_attn.k_proj";
        // a width MLX does not have
        ObjectNode bad = (ObjectNode) om.readTree(cfg);
        ((ObjectNode) bad.get("quantization")).put("bits", 7);
        ((ObjectNode) bad.get("quantization")).remove(q);
        Files.writeString(out.resolve("config.json"), bad.toString());
        var e1 = assertThrows(dev.jround.spi.InvalidInputException.class, () -> MlxCheckpoint.open(out).close());
        assertTrue(e1.getMessage().contains("quantization.bits is 7"), e1.getMessage());
        // bits that do not match the packed words
        bad = (ObjectNode) om.readTree(cfg);
        ((ObjectNode) bad.get("quantization").get(q)).put("bits", 8);
        Files.writeString(out.resolve("config.json"), bad.toString());
        var e2 = assertThrows(dev.jround.spi.CorruptInputException.class, () -> MlxCheckpoint.open(out).close());
        assertTrue(e2.getMessage().contains(q + ".scales"), e2.getMessage());
        // a false entry for a layer that has scales
        bad = (ObjectNode) om.readTree(cfg);
        ((ObjectNode) bad.get("quantization")).put(q, false);
        Files.writeString(out.resolve("config.json"), bad.toString());
        var e3 = assertThrows(dev.jround.spi.CorruptInputException.class, () -> MlxCheckpoint.open(out).close());
        assertTrue(e3.getMessage().contains(q + " has scales but config.json's quantization keeps it in float"), e3.getMessage());
        Files.writeString(out.resolve("config.json"), cfg);
        MlxCheckpoint.open(out).close();
    }
}
