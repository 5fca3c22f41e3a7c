package dev.jround.plugin.awq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
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
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AwqExporterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final AwqExporter exporter = new AwqExporter();

    @ParameterizedTest
    @CsvSource({"false, 32", "false, -1", "true, 32"})
    void roundTripsWithInterleavedNibblesAndZeroPointsAsIs(boolean sym, int group, @TempDir Path tmp) throws Exception {
        Function<String, QuantScheme> schemes = n -> n.equals("lm_head") || n.equals("model.layers.1.mlp.gate_proj")
                ? QuantScheme.FULL_PRECISION : QuantScheme.intWeightOnly(4, group, sym);
        ExportFixture f = new ExportFixture(tmp, true, schemes, true, group + (sym ? 1 : 0));
        Path out = f.export(exporter, tmp.resolve("out"), "auto_awq", Map.of(), Long.MAX_VALUE);
        ExportAssertions.assertDecodesExactly(f, out, "awq");
        if (sym) {
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
                for (int w : c.get("model.layers.0.self_attn.q_proj.qzeros").toInts()) {
                    assertEquals(0x88888888, w);
                }
            }
        }
        JsonNode qc = ExportAssertions.qc(out);
        assertEquals("awq", qc.get("quant_method").asText());
        assertEquals("gemm", qc.get("version").asText());
        assertTrue(qc.get("zero_point").asBoolean());
        assertEquals(group, qc.get("group_size").asInt());
        assertEquals(JSON.readTree("[\"lm_head\",\"model.layers.1.mlp.gate_proj\"]"), qc.get("modules_to_not_convert"));
        assertEquals("model.layers", qc.get("to_quant_block_names").asText());
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("float16", cfg.get("torch_dtype").asText());
        JsonNode native_ = JSON.readTree(out.resolve("quant_config.json").toFile());
        assertEquals(4, native_.get("w_bit").asInt());
        assertEquals(group, native_.get("q_group_size").asInt());
        assertEquals("GEMM", native_.get("version").asText());
    }

    @Test
    void refusals() {
        Function<QuantScheme, LayerSpec> layer = s -> new LayerSpec("model.layers.0.mlp.up_proj", 64, 96, s, 0, false, "t");
        assertTrue(exporter.refusal("auto_awq", layer.apply(QuantScheme.intWeightOnly(4, 32, false))).isEmpty());
        assertTrue(exporter.refusal("auto_awq", layer.apply(QuantScheme.intWeightOnly(3, 32, false))).orElseThrow().contains("3-bit"));
        assertTrue(exporter.refusal("auto_awq", layer.apply(QuantScheme.intWeightOnly(8, 32, false))).orElseThrow().contains("8-bit"));
        assertTrue(exporter.refusal("auto_awq", layer.apply(QuantScheme.intWeightOnly(4, 128, false))).orElseThrow().contains("divide"));
        LayerSpec head = new LayerSpec("lm_head", 64, 128, QuantScheme.intWeightOnly(4, 32, false), -1, false, "t");
        assertTrue(exporter.refusal("auto_awq", head).orElseThrow().contains("lm_head"));
        assertTrue(exporter.refusal("auto_awq", new LayerSpec("lm_head", 64, 128, QuantScheme.FULL_PRECISION, -1, false, "t")).isEmpty());
    }

    @Test
    void mixedGroupSizesAreRefusedBecauseTheConfigHasOne(@TempDir Path tmp) throws Exception {
        Function<String, QuantScheme> schemes = n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION
                : QuantScheme.intWeightOnly(4, n.contains("mlp") ? -1 : 32, false);
        ExportFixture f = new ExportFixture(tmp, true, schemes, true, 3);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> f.export(exporter, tmp.resolve("out"), "auto_awq", Map.of(), Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("group_size"), e.getMessage());
    }

    @Test
    void rewritesTheReferenceBytes(@TempDir Path tmp) throws Exception {
        Path models = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models");
        assumeTrue(Files.isDirectory(models.resolve("aidreams260K-reference-exports")), "reference exports not present");
        Path ref = models.resolve("aidreams260K-reference-exports/auto_awq_w4g32asym");
        Path src = models.resolve("aidreams260K");
        Path out = tmp.resolve("out");
        ReferenceRepack.assertRewritesTensors(exporter, "auto_awq", ref, src, out, ckpt -> new ArrayList<>(ckpt.linearLayers()),
                Map.of("amp", false, "enable_quanted_input", false, "autoround_version", "0.15.0"));
        ObjectNode want = (ObjectNode) JSON.readTree(ref.resolve("config.json").toFile());
        ObjectNode got = (ObjectNode) JSON.readTree(out.resolve("config.json").toFile());
        ObjectNode wq = (ObjectNode) want.get("quantization_config");
        ObjectNode gq = (ObjectNode) got.get("quantization_config");
        wq.remove("static_attention_granularity");
        wq.remove("static_kv_granularity");
        // the reference lists modules_to_not_convert in set order; compare as sets
        Set<String> wantSkip = new HashSet<>();
        Set<String> gotSkip = new HashSet<>();
        wq.remove("modules_to_not_convert").forEach(n -> wantSkip.add(n.asText()));
        gq.remove("modules_to_not_convert").forEach(n -> gotSkip.add(n.asText()));
        assertEquals(wantSkip, gotSkip);
        assertEquals(want, got);
    }
}
