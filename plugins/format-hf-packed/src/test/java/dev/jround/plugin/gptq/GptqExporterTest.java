package dev.jround.plugin.gptq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.lib.hf.PyJson;
import dev.jround.lib.hf.testing.ExportAssertions;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.lib.hf.testing.ReferenceRepack;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class GptqExporterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final GptqExporter exporter = new GptqExporter();

    static Function<String, QuantScheme> uniform(int bits, int group, boolean sym) {
        return n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION : QuantScheme.intWeightOnly(bits, group, sym);
    }

    @ParameterizedTest
    @CsvSource({"2, true, 32", "3, true, 32", "4, true, 32", "8, true, 32", "4, false, 32", "3, false, -1", "2, false, 32", "8, false, -1"})
    void everyWidthRoundTripsWithV1ZeroPointsAndGIdx(int bits, boolean sym, int group, @TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, true, uniform(bits, group, sym), false, bits * 3L + group);
        Path out = f.export(exporter, tmp.resolve("out"), "auto_gptq", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, "gptq");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            int[] gi = c.get("model.layers.0.mlp.down_proj.g_idx").toInts();
            int g = group < 0 ? ExportFixture.INTER : group;
            for (int k = 0; k < gi.length; k++) {
                assertEquals(k / g, gi[k]);
            }
        }
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals("gptq", qc.get("quant_method").asText());
        assertEquals(bits, qc.get("bits").asInt());
        assertEquals(group, qc.get("group_size").asInt());
        assertEquals(sym, qc.get("sym").asBoolean());
        assertFalse(qc.get("desc_act").asBoolean());
        assertFalse(qc.get("lm_head").asBoolean());
        assertEquals("gptq", qc.get("checkpoint_format").asText());
        assertFalse(qc.has("dynamic"));
        assertFalse(qc.has("modules_in_block_to_quantize"));
        assertFalse(qc.has("block_name_to_quantize"), "model.layers is found by every consumer");
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("float16", cfg.get("torch_dtype").asText());
        assertEquals("float16", cfg.get("dtype").asText());
        JsonNode qcfg = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertEquals(bits, qcfg.get("bits").asInt());
        assertEquals(group, qcfg.get("group_size").asInt());
        assertEquals("model", qcfg.get("model_file_base_name").asText());
        assertEquals("gptq", qcfg.get("checkpoint_format").asText());
        assertFalse(qcfg.get("desc_act").asBoolean());
    }

    @Test
    void overridesFloatLayersAndAQuantizedHeadBecomeDynamicEntries(@TempDir Path tmp) throws Exception {
        Function<String, QuantScheme> schemes = n -> switch (n) {
            case "lm_head" -> QuantScheme.intWeightOnly(8, 32, true);
            case "model.layers.1.self_attn.k_proj" -> QuantScheme.intWeightOnly(8, 32, true);
            case "model.layers.0.mlp.up_proj", "model.layers.1.mlp.up_proj" -> QuantScheme.FULL_PRECISION;
            default -> QuantScheme.intWeightOnly(4, 32, true);
        };
        ExportFixture f = new ExportFixture(tmp, false, schemes, false, 21);
        Path out = f.export(exporter, tmp.resolve("out"), "auto_gptq", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, "gptq");
        JsonNode qc = ExportAssertions.qc(out);
        JsonNode dyn = qc.get("dynamic");
        List<String> keys = new ArrayList<>();
        dyn.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("-:.*model\\.layers\\.0\\.mlp\\.up_proj.*", "+:.*model\\.layers\\.1\\.self_attn\\.k_proj.*",
                "-:.*model\\.layers\\.1\\.mlp\\.up_proj.*", "+:.*lm_head.*"), keys);
        assertEquals(JSON.readTree("{\"bits\":8,\"group_size\":32,\"sym\":true}"), dyn.get("+:.*lm_head.*"));
        assertEquals(0, dyn.get("-:.*model\\.layers\\.0\\.mlp\\.up_proj.*").size());
        assertTrue(qc.get("lm_head").asBoolean());
        assertEquals(JSON.readTree("[[\"mlp.down_proj\",\"mlp.gate_proj\",\"self_attn.k_proj\",\"self_attn.o_proj\",\"self_attn.q_proj\",\"self_attn.v_proj\"]]"),
                qc.get("modules_in_block_to_quantize"));
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"-:.*model\\\\.layers\\\\.0\\\\.mlp\\\\.up_proj.*\": {}"));
        JsonNode qcfg = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertTrue(qcfg.get("lm_head").asBoolean());
        assertEquals(dyn, qcfg.get("dynamic"));
        // every consumer's pattern must match the exact layer and nothing else
        for (String k : keys) {
            String regex = k.substring(2);
            long hits = f.specs.stream().filter(s -> java.util.regex.Pattern.compile(regex).matcher(s.name()).matches()).count();
            assertEquals(1, hits, regex);
        }
    }

    @Test
    void refusals() {
        Function<QuantScheme, LayerSpec> layer = s -> new LayerSpec("model.layers.0.mlp.up_proj", 64, 96, s, 0, false, "t");
        assertTrue(exporter.refusal("auto_gptq", layer.apply(QuantScheme.intWeightOnly(3, 32, false))).isEmpty());
        assertTrue(exporter.refusal("auto_gptq", layer.apply(QuantScheme.intWeightOnly(6, 32, true))).orElseThrow().contains("6-bit"));
        assertTrue(exporter.refusal("auto_gptq", layer.apply(QuantScheme.intWeightOnly(4, 128, true))).orElseThrow().contains("divide"));
        LayerSpec odd = new LayerSpec("model.layers.0.mlp.down_proj", 172, 64, QuantScheme.intWeightOnly(4, 32, true), 0, false, "t");
        assertTrue(exporter.refusal("auto_gptq", odd).orElseThrow().contains("divisible by 32"));
        assertTrue(exporter.refusal("auto_gptq", layer.apply(QuantScheme.intWeightOnly(4, 32, true).withDataType("nv_fp"))).isPresent());
        assertTrue(exporter.acceptsQuantizedLmHead("auto_gptq"));
    }

    @Test
    void asymmetricZeroPointZeroIsRefusedWithTheReason(@TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, true, uniform(4, 32, false), true, 1);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> f.export(exporter, tmp.resolve("out"), "auto_gptq", Map.of(), Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("auto_gptq"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"auto_gptq_w4g32sym", "auto_gptq_w3g32sym"})
    void rewritesTheReferenceBytes(String folder, @TempDir Path tmp) throws Exception {
        Path models = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models");
        assumeTrue(Files.isDirectory(models.resolve("aidreams260K-reference-exports")), "reference exports not present");
        Path ref = models.resolve("aidreams260K-reference-exports").resolve(folder);
        Path src = models.resolve("aidreams260K");
        Path out = tmp.resolve("out");
        List<String> order = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        ReferenceRepack.assertRewritesTensors(exporter, "auto_gptq", ref, src, out, ckpt -> {
            List<LayerSpec> specs = new ArrayList<>(ckpt.linearLayers());
            specs.sort(Comparator.comparingInt(LayerSpec::blockIndex)
                    .thenComparingInt(s -> order.indexOf(s.name().substring(s.name().lastIndexOf('.') + 1))));
            return specs;
        }, Map.of("amp", false, "enable_quanted_input", false, "autoround_version", "0.15.0"));
        ObjectNode want = (ObjectNode) JSON.readTree(ref.resolve("quantization_config.json").toFile());
        want.remove("static_attention_granularity");
        want.remove("static_kv_granularity");
        want.put("checkpoint_format", "gptq"); // jround's documented additions
        want.put("static_groups", false);
        assertEquals(PyJson.write(want, false), Files.readString(out.resolve("quantization_config.json")));
        ObjectNode wantCfg = (ObjectNode) JSON.readTree(ref.resolve("config.json").toFile());
        wantCfg.set("quantization_config", want);
        assertEquals(wantCfg, JSON.readTree(out.resolve("config.json").toFile()));
    }
}
