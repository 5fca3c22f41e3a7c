package dev.jround.plugin.autoround;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.testing.ReferenceRepack;
import dev.jround.spi.quant.LayerSpec;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unpacks the reference AutoRound's auto_round exports of aidreams260K and writes them again with the
 * exporter: every tensor must come out byte for byte identical and the configs equal (minus the two
 * {@code static_*_granularity} keys the reference leaks and jround omits).
 */
class ReferenceRepackTest {

    static final List<String> MODEL_ORDER = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    static Path shared() {
        Path p = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models");
        assumeTrue(Files.isDirectory(p.resolve("aidreams260K-reference-exports")), "reference exports not present");
        return p;
    }

    /** The checkpoint's Linear layers in the model's module order (attention, then MLP). */
    static List<LayerSpec> modelOrder(PackedCheckpoint c) {
        List<LayerSpec> l = new ArrayList<>(c.linearLayers());
        l.sort(Comparator.comparingInt((LayerSpec s) -> s.blockIndex())
                .thenComparingInt(s -> MODEL_ORDER.indexOf(s.name().substring(s.name().lastIndexOf('.') + 1))));
        return l;
    }

    @ParameterizedTest
    @CsvSource({"auto_round_w4g32sym, auto_round", "auto_round_w2g32sym, auto_round", "auto_round_w4g32asym, auto_round"})
    void rewritesTheReferenceBytes(String folder, String format, @TempDir Path tmp) throws Exception {
        Path models = shared();
        Path ref = models.resolve("aidreams260K-reference-exports").resolve(folder);
        Path src = models.resolve("aidreams260K");
        Path out = tmp.resolve("out");
        ReferenceRepack.assertRewritesTensors(new AutoRoundExporter(), format, ref, src, out, ReferenceRepackTest::modelOrder,
                Map.of("iters", 0, "lr", 0.005, "nsamples", 16, "seqlen", 128, "batch_size", 8,
                        "enable_quanted_input", true, "amp", false, "dataset", "calib.jsonl", "autoround_version", "0.15.0"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode want = (ObjectNode) json.readTree(ref.resolve("config.json").toFile());
        ObjectNode wantQc = (ObjectNode) want.get("quantization_config");
        wantQc.remove("static_attention_granularity");
        wantQc.remove("static_kv_granularity");
        JsonNode got = json.readTree(out.resolve("config.json").toFile());
        assertEquals(want, got);
        ObjectNode wantStandalone = (ObjectNode) json.readTree(ref.resolve("quantization_config.json").toFile());
        wantStandalone.remove("static_attention_granularity");
        wantStandalone.remove("static_kv_granularity");
        String expected = dev.jround.lib.hf.PyJson.write(wantStandalone, false);
        assertEquals(expected, Files.readString(out.resolve("quantization_config.json")), "same keys in the same order");
    }
}
