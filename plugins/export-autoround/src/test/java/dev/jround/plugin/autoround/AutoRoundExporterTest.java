package dev.jround.plugin.autoround;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.InvalidInputException;
import dev.jround.lib.hf.testing.ExportAssertions;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.GgmlBlocks;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AutoRoundExporterTest {

    private final AutoRoundExporter exporter = new AutoRoundExporter();
    static final ObjectMapper JSON = new ObjectMapper();

    static Function<String, QuantScheme> uniform(int bits, int group, boolean sym) {
        return n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION : QuantScheme.intWeightOnly(bits, group, sym);
    }

    @ParameterizedTest
    @CsvSource({
            "2, true, auto_round:auto_gptq, v1", "3, true, auto_round:auto_gptq, v1",
            "4, true, auto_round:auto_gptq, v1", "8, true, auto_round:auto_gptq, v1",
            "2, false, auto_round, v2", "3, false, auto_round, v2",
            "4, false, auto_round:auto_awq, awq", "8, false, auto_round, v2",
    })
    void everyWidthRoundTripsWithTheReferencePackingChoice(int bits, boolean sym, String packing, String layout,
                                                           @TempDir Path tmp) throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, uniform(bits, 32, sym), true, bits * 10L + (sym ? 1 : 0));
        Path out = f.export(exporter, tmp.resolve("out"), "auto_round", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, layout);
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals(packing, qc.get("packing_format").asText());
        assertEquals("auto-round", qc.get("quant_method").asText());
        assertEquals(bits, qc.get("bits").asInt());
        assertEquals(32, qc.get("group_size").asInt());
        assertEquals(sym, qc.get("sym").asBoolean());
        assertEquals("int", qc.get("data_type").asText());
        assertEquals("model.layers", qc.get("block_name_to_quantize").asText());
        assertFalse(qc.has("extra_config"), "nothing differs from the defaults");
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(layout.equals("awq") ? "float16" : "float32", cfg.get("dtype").asText());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("generation_config.json")));
        assertFalse(Files.exists(out.resolve("calib.jsonl")));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertFalse(Files.exists(out.resolve("model.safetensors.index.json")));
    }

    @ParameterizedTest
    @CsvSource({"auto_round:auto_gptq, 4, false, v1", "auto_round:gptqmodel, 3, false, gptqmodel",
            "auto_round:auto_awq, 4, true, awq", "auto_round:gptqmodel, 8, true, gptqmodel"})
    void explicitSubFormatsUseTheirLayout(String format, int bits, boolean sym, String layout, @TempDir Path tmp) throws IOException {
        // v1 cannot store a zero point of 0, so the asym fixture keeps them >= 1 there
        ExportFixture f = new ExportFixture(tmp, true, uniform(bits, 32, sym), !layout.equals("v1"), 5);
        Path out = f.export(exporter, tmp.resolve("out"), format, Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, layout);
        assertEquals(format, ExportAssertions.qc(out).get("packing_format").asText());
    }

    @Test
    void mixedBitsFloatLayersAndAQuantizedHeadGoToExtraConfig(@TempDir Path tmp) throws IOException {
        Function<String, QuantScheme> schemes = n -> {
            if (n.equals("lm_head")) {
                return QuantScheme.intWeightOnly(8, 64, true);
            }
            if (n.equals("model.layers.0.self_attn.q_proj")) {
                return QuantScheme.intWeightOnly(8, 32, true);
            }
            if (n.equals("model.layers.1.self_attn.v_proj")) {
                return QuantScheme.intWeightOnly(2, -1, true);
            }
            if (n.equals("model.layers.1.mlp.down_proj")) {
                return QuantScheme.FULL_PRECISION;
            }
            return QuantScheme.intWeightOnly(4, 32, true);
        };
        ExportFixture f = new ExportFixture(tmp, true, schemes, false, 9);
        Path out = f.export(exporter, tmp.resolve("out"), "auto_round", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, "v1");
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals("auto_round:auto_gptq", qc.get("packing_format").asText());
        assertEquals(4, qc.get("bits").asInt());
        JsonNode extra = qc.get("extra_config");
        assertEquals(JSON.readTree("{\"bits\":8}"), extra.get("model.layers.0.self_attn.q_proj"));
        assertEquals(JSON.readTree("{\"bits\":2,\"group_size\":-1}"), extra.get("model.layers.1.self_attn.v_proj"));
        assertEquals(JSON.readTree("{\"bits\":16,\"data_type\":\"fp\"}"), extra.get("model.layers.1.mlp.down_proj"));
        assertEquals(JSON.readTree("{\"bits\":8,\"group_size\":64,\"sym\":true,\"data_type\":\"int\",\"act_bits\":16,"
                + "\"act_group_size\":64,\"act_sym\":true,\"act_data_type\":\"float\",\"act_dynamic\":true,"
                + "\"super_bits\":null,\"super_group_size\":null}"), extra.get("lm_head"));
        assertEquals(4, extra.size());
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertFalse(cfg.get("tie_word_embeddings").asBoolean(), "a quantized head unties the embeddings");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            assertTrue(c.contains("model.embed_tokens.weight"));
            assertTrue(c.contains("lm_head.qweight"));
            assertTrue(c.contains("model.layers.1.mlp.down_proj.weight"));
            assertEquals(DType.F32, c.info("model.layers.1.mlp.down_proj.weight").orElseThrow().dtype());
        }
    }

    @Test
    void asymmetricMixedWidthsUseTheNativeLayoutWithZeroPointsAsIs(@TempDir Path tmp) throws IOException {
        Function<String, QuantScheme> schemes = n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION
                : QuantScheme.intWeightOnly(n.contains("mlp") ? 8 : 4, 32, false);
        ExportFixture f = new ExportFixture(tmp, true, schemes, true, 11);
        Path out = f.export(exporter, tmp.resolve("out"), "auto_round", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, "v2");
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals("auto_round", qc.get("packing_format").asText());
    }

    @Test
    void tuningSettingsAreWrittenOnlyWhenTheyDifferFromTheDefaults(@TempDir Path tmp) throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, uniform(4, 32, true), false, 2);
        Map<String, Object> opts = Map.of("iters", 50, "lr", 0.01, "minmax_lr", 0.02, "nsamples", 128, "seqlen", 512,
                "batch_size", 8, "amp", true, "enable_quanted_input", false, "scale_dtype", "fp16", "autoround_version", "jround-test");
        Path out = f.export(exporter, tmp.resolve("out"), "auto_round", opts, Long.MAX_VALUE);
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals(50, qc.get("iters").asInt());
        assertEquals(0.01, qc.get("lr").asDouble());
        assertFalse(qc.has("minmax_lr"), "minmax_lr = 1/iters is the default");
        assertEquals(512, qc.get("seqlen").asInt());
        assertFalse(qc.get("enable_quanted_input").asBoolean());
        assertEquals("jround-test", qc.get("autoround_version").asText());
        for (String dflt : new String[]{"nsamples", "batch_size", "amp", "scale_dtype"}) {
            assertFalse(qc.has(dflt), dflt + " equals the default and is omitted");
        }
        String text = Files.readString(out.resolve("quantization_config.json"));
        assertTrue(text.startsWith("{\n  \"bits\": 4,\n  \"data_type\": \"int\",\n  \"group_size\": 32,\n  \"sym\": true,"), text);
        Path out2 = f.export(exporter, tmp.resolve("out2"), "auto_round", Map.of("iters", 50, "lr", 0.02, "minmax_lr", 0.02), Long.MAX_VALUE);
        assertFalse(ExportAssertions.qc(out2).has("lr"), "lr = 1/iters is the default");
        Path rtn = f.export(exporter, tmp.resolve("rtn"), "auto_round", Map.of("iters", 0, "lr", 0.005, "nsamples", 16,
                "seqlen", 128, "batch_size", 8, "enable_quanted_input", true, "amp", false), Long.MAX_VALUE);
        JsonNode rq = ExportAssertions.qc(rtn);
        for (String absent : new String[]{"iters", "lr", "nsamples", "seqlen", "batch_size"}) {
            assertFalse(rq.has(absent), absent + " is not a setting of RTN");
        }
        assertFalse(rq.get("enable_quanted_input").asBoolean());
        assertFalse(rq.get("amp").asBoolean());
    }

    @Test
    void smallShardLimitWritesAnIndexCoveringEveryTensorOnce(@TempDir Path tmp) throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, uniform(4, 32, true), false, 4);
        Path out = f.export(exporter, tmp.resolve("out"), "auto_round", Map.of(), 20_000);
        Path index = out.resolve("model.safetensors.index.json");
        assertTrue(Files.isRegularFile(index));
        JsonNode wm = JSON.readTree(index.toFile()).get("weight_map");
        try (var files = Files.list(out)) {
            long shards = files.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
            assertTrue(shards > 2, "shards: " + shards);
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            assertEquals(wm.size(), c.names().size());
        }
        ExportAssertions.assertDecodesExactly(f, out, "v1");
    }

    @Test
    void refusesWhatTheLayoutsCannotStore() {
        Function<QuantScheme, LayerSpec> layer = s -> new LayerSpec("model.layers.0.mlp.up_proj", 64, 96, s, 0, false, "t");
        assertTrue(exporter.refusal("auto_round", layer.apply(QuantScheme.intWeightOnly(4, 32, true))).isEmpty());
        assertTrue(exporter.refusal("auto_round", layer.apply(QuantScheme.FULL_PRECISION)).isEmpty());
        assertTrue(exporter.refusal("auto_round", layer.apply(QuantScheme.intWeightOnly(5, 32, true))).orElseThrow().contains("5-bit"));
        assertTrue(exporter.refusal("auto_round:auto_awq", layer.apply(QuantScheme.intWeightOnly(8, 32, false))).orElseThrow().contains("8-bit"));
        assertTrue(exporter.refusal("auto_round", layer.apply(QuantScheme.intWeightOnly(4, 48, true))).orElseThrow().contains("divide"));
        assertTrue(exporter.refusal("auto_round", layer.apply(QuantScheme.intWeightOnly(4, 32, true).withDataType("mx_fp"))).orElseThrow().contains("integer"));
        QuantScheme act = QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("int").actBits(8).build();
        assertTrue(exporter.refusal("auto_round", layer.apply(act)).orElseThrow().contains("act_bits=8"));
        LayerSpec odd = new LayerSpec("model.layers.0.mlp.down_proj", 172, 64, QuantScheme.intWeightOnly(4, 32, true), 0, false, "t");
        assertTrue(exporter.refusal("auto_round", odd).orElseThrow().contains("divisible by 32"));
    }

    @Test
    void v1RefusesAZeroPointOfZeroInsteadOfCorruptingIt(@TempDir Path tmp) throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, uniform(4, 32, false), true, 12);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> f.export(exporter, tmp.resolve("out"), "auto_round:auto_gptq", Map.of(), Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("zero point 0"), e.getMessage());
        assertTrue(e.hint().contains("auto_awq"));
    }

    @Test
    void refusesAPayloadWithoutAnIntegerGrid(@TempDir Path tmp) throws IOException {
        ExportFixture f = new ExportFixture(tmp, true, uniform(4, 32, true), true, 13);
        f.quantized.replaceAll((n, q) -> new QuantizedLayer(q.spec(), new GgmlBlocks("Q4_K", new byte[0]), q.dequantized(), q.bias(), null));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> f.export(exporter, tmp.resolve("out"), "auto_round", Map.of(), Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("no integer codes"), e.getMessage());
        assertTrue(e.hint().contains("--format fake"), e.hint());
    }
}
