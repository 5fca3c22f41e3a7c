package dev.jround.it.job;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.cli.JroundCli;
import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalData;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.plugin.gguf.GgmlType;
import dev.jround.plugin.gguf.GgufFile;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10 part 7: {@code --to_quant_block_names} on the real model. Blocks 1 and 2 of 4 are selected; the layers of
 * blocks 0 and 3 keep their source tensors, and every format family loads back evaluating exactly like the fake export.
 */
class BlockSelectionTest {

    private static final String SELECT = "layers\\.[12]$";
    private static final String[] PROJ = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    @TempDir
    Path out;

    @Test
    void onlySelectedBlocksAreQuantizedAndEveryFormatLoadsBack() throws Exception {
        Path model = Shared.aidreams();
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false)
                .seqlen(64).nsamples(8).iters(5).dataset(model.resolve("calib.jsonl").toString()).toQuantBlockNames(SELECT)
                .build().quantizeAndSave(out, "fake", "auto_round", "auto_gptq", "auto_awq");
        List<Path> outputs = result.outputs();
        // blocks 0 and 3: every linear full precision, with the reason --print_config shows
        result.layers().stream().filter(s -> s.blockIndex() == 0 || s.blockIndex() == 3).forEach(s -> {
            assertFalse(s.quantized(), s.name());
            assertEquals("outside --to_quant_block_names '" + SELECT + "'", s.reason());
        });
        assertEquals(8, result.summary().quantized(), "q/k/v/o of blocks 1 and 2 (the 172-wide MLP is shape-skipped)");

        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model);
             SafetensorsCheckpoint fake = SafetensorsCheckpoint.open(outputs.get(0))) {
            for (int b = 0; b < 4; b++) {
                for (String p : PROJ) {
                    String n = "model.layers." + b + "." + p + ".weight";
                    boolean same = src.get(n).data().equals(fake.get(n).data());
                    boolean quantized = (b == 1 || b == 2) && p.startsWith("self_attn");
                    assertEquals(!quantized, same, n + (quantized ? " is quantized" : " is byte-identical to the input"));
                }
            }
        }

        ObjectMapper json = new ObjectMapper();
        JsonNode ar = json.readTree(outputs.get(1).resolve("config.json").toFile()).get("quantization_config");
        assertEquals("model.layers", ar.get("block_name_to_quantize").asText(), "the loader-safe group prefix");
        assertEquals(16, ar.at("/extra_config/model.layers.0.self_attn.q_proj/bits").asInt());
        assertEquals(16, ar.at("/extra_config/model.layers.3.self_attn.o_proj/bits").asInt());
        assertTrue(ar.at("/extra_config/model.layers.1.self_attn.q_proj").isMissingNode());
        try (SafetensorsCheckpoint packed = SafetensorsCheckpoint.open(outputs.get(1))) {
            assertTrue(packed.names().contains("model.layers.1.self_attn.q_proj.qweight"));
            assertTrue(packed.names().contains("model.layers.0.self_attn.q_proj.weight"));
            assertFalse(packed.names().contains("model.layers.0.self_attn.q_proj.qweight"));
        }
        JsonNode gptq = json.readTree(outputs.get(2).resolve("config.json").toFile()).get("quantization_config");
        assertTrue(gptq.at("/dynamic").has("-:.*model\\.layers\\.0\\.self_attn\\.q_proj.*"), gptq.toString());
        JsonNode awq = json.readTree(outputs.get(3).resolve("config.json").toFile()).get("quantization_config");
        assertTrue(awq.get("modules_to_not_convert").toString().contains("model.layers.3.self_attn.k_proj"), awq.toString());

        Path ids = model.resolve("calib_ids.json");
        EvalReport fakeReport = Quality.against(outputs.get(0), model, ids, 16);
        assertTrue(fakeReport.meanKld() > 0, "blocks 1 and 2 were quantized");
        for (Path packedDir : outputs.subList(1, outputs.size())) {
            EvalReport r = Quality.against(packedDir, model, ids, 16);
            assertEquals(fakeReport.meanKld(), r.meanKld(), 1e-9, packedDir + " KLD");
        }
    }

    @Test
    void ggufKeepsUnselectedBlocksInFloat() throws Exception {
        Path model = Shared.aidreams();
        QuantizationJob.Result some = AutoRound.builder(model.toString()).iters(0).disableOptRtn(true).toQuantBlockNames(SELECT)
                .build().quantizeAndSave(out.resolve("some"), "gguf:q4_0");
        QuantizationJob.Result all = AutoRound.builder(model.toString()).iters(0).disableOptRtn(true)
                .build().quantizeAndSave(out.resolve("all"), "gguf:q4_0");
        Path someFile = ggufOf(some.outputs().get(0));
        try (GgufFile g = GgufFile.open(someFile); GgufFile a = GgufFile.open(ggufOf(all.outputs().get(0)))) {
            for (String t : new String[]{"attn_q", "attn_v", "ffn_down"}) {
                assertEquals(GgmlType.F32, g.tensor("blk.0." + t + ".weight").type(), t + " of block 0 (the source's float32)");
                assertEquals(GgmlType.F32, g.tensor("blk.3." + t + ".weight").type(), t + " of block 3");
                assertEquals(a.tensor("blk.1." + t + ".weight").type(), g.tensor("blk.1." + t + ".weight").type());
                assertNotEquals(GgmlType.F32, g.tensor("blk.1." + t + ".weight").type());
            }
        }
        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry(getClass().getClassLoader()), Path::of);
        try (LoadedModel ref = loader.load(model.toString(), DataType.FLOAT32)) {
            List<long[]> seqs = EvalData.load(model.resolve("calib_ids.json"), ref.tokenizer(), 128);
            seqs = seqs.subList(0, Math.min(16, seqs.size()));
            double kSome = kld(loader, someFile, ref, seqs);
            double kAll = kld(loader, ggufOf(all.outputs().get(0)), ref, seqs);
            assertTrue(kSome > 0 && kSome < kAll, "half the blocks quantized: KLD " + kSome + " vs all blocks " + kAll);
        }
    }

    @Test
    void theCliRefusesAValueThatMatchesNoBlockOrIsNoRegex() {
        Path model = Shared.aidreams();
        Run none = run("quantize", "--model", model.toString(), "--iters", "0", "--output_dir", out.toString(),
                "--to_quant_block_names", "decoder.h");
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--to_quant_block_names 'decoder.h' matches no block"), none.err());
        assertTrue(none.err().contains("model.layers.0 ... model.layers.3"), none.err());
        Run bad = run("quantize", "--model", model.toString(), "--iters", "0", "--output_dir", out.toString(),
                "--to_quant_block_names", "layers.(1");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("is not a valid regular expression"), bad.err());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(0, s.count(), "nothing written");
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(o, true), new PrintWriter(e, true), args);
        return new Run(code, o.toString(), e.toString());
    }

    private static double kld(ModelLoader loader, Path gguf, LoadedModel ref, List<long[]> seqs) {
        try (LoadedModel cand = loader.load(gguf.toString(), DataType.FLOAT32)) {
            return new Evaluator(16).evaluate(cand, ref, seqs, "kld", null).meanKld();
        }
    }

    private static Path ggufOf(Path output) throws java.io.IOException {
        if (output.toString().endsWith(".gguf")) {
            return output;
        }
        try (Stream<Path> s = Files.walk(output)) {
            return s.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
        }
    }
}
