package dev.jround.it.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.cli.JroundCli;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.eval.GenerationOptions;
import dev.jround.kernel.eval.Generator;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading, evaluation, generation and the two CLI commands end to end on tiny random Llama checkpoints written
 * here (no ../shared needed), with the installed plugins.
 */
class SyntheticModelTest {

    static final int VOCAB = 32;

    @TempDir
    static Path tmp;
    static Path reference;
    static Path candidate;
    static Path ids;

    @BeforeAll
    static void write() throws IOException {
        reference = writeModel("reference", 0f);
        candidate = writeModel("candidate", 0.05f);
        Random r = new Random(5);
        StringBuilder json = new StringBuilder("[");
        for (int row = 0; row < 6; row++) {
            json.append(row == 0 ? "[" : ",[");
            int len = 12 + row;
            for (int j = 0; j < len; j++) {
                json.append(j == 0 ? "" : ",").append(j == 0 ? 1 : 3 + r.nextInt(VOCAB - 3));
            }
            json.append("]");
        }
        ids = Files.writeString(tmp.resolve("ids.json"), json.append("]").toString());
    }

    /** A 2-layer Llama (GQA 2:1, tied embeddings) with seeded weights; {@code noise} perturbs a copy. */
    static Path writeModel(String name, float noise) throws IOException {
        return TinyLlama.NARROW.write(tmp.resolve(name), noise);
    }

    static List<long[]> rows() throws IOException {
        List<long[]> out = new ArrayList<>();
        for (JsonNode row : new ObjectMapper().readTree(ids.toFile())) {
            long[] r = new long[row.size()];
            for (int i = 0; i < r.length; i++) {
                r[i] = row.get(i).asLong();
            }
            out.add(r);
        }
        return out;
    }

    @Test
    void klDivergenceIsZeroAgainstItselfAndPositiveAgainstAPerturbedCopy() throws IOException {
        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry());
        try (LoadedModel ref = loader.load(reference.toString(), DataType.FLOAT32);
             LoadedModel same = loader.load(reference.toString(), DataType.FLOAT32);
             LoadedModel cand = loader.load(candidate.toString(), DataType.FLOAT32)) {
            EvalReport self = new Evaluator(4).evaluate(same, ref, rows(), "ids", null);
            assertEquals(0.0, self.meanKld(), 1e-6);
            assertEquals(1.0, self.top1Agreement());
            assertEquals(0.0, self.rmsDeltaP(), 1e-6);
            assertEquals(self.referencePerplexity(), self.perplexity(), 1e-9 * self.perplexity());
            EvalReport other = new Evaluator(4).evaluate(cand, ref, rows(), "ids", null);
            assertTrue(other.meanKld() > 1e-4, "perturbed weights must move the distribution: " + other.meanKld());
            assertTrue(other.maxKld() >= other.medianKld());
            assertNotEquals(other.perplexity(), other.referencePerplexity());
        }
    }

    @Test
    void paddedBatchesScoreAsSingleSequences() throws IOException {
        try (LoadedModel ref = new ModelLoader(new ServiceLoaderRegistry()).load(reference.toString(), DataType.FLOAT32)) {
            List<long[]> rows = rows();
            double batched = new Evaluator(6).evaluate(ref, null, rows, "ids", null).perplexity();
            double single = new Evaluator(1).evaluate(ref, null, rows, "ids", null).perplexity();
            assertEquals(single, batched, 1e-5 * single, "rows of different lengths are right-padded with a mask");
        }
    }

    @Test
    void seededSamplingRepeatsAndGreedyIsStable() {
        try (LoadedModel ref = new ModelLoader(new ServiceLoaderRegistry()).load(reference.toString(), DataType.FLOAT32);
             NDManager m = ref.device().newManager()) {
            long[] prompt = Generator.promptIds(ref.tokenizer(), "w3 w4 w5", false);
            assertArrayEquals(new long[]{1, 3, 4, 5}, prompt);
            assertArrayEquals(new long[]{1, 3, 4}, Generator.promptIds(ref.tokenizer(), "w3 w4", true),
                    "chat: the rendered template carries its own BOS; encoding adds none");
            GenerationOptions sample = new GenerationOptions(12, true, 1.5, 0, 1.0, 9);
            long[] a = Generator.generate(ref.lm(), m, prompt, sample, Set.of());
            long[] b = Generator.generate(ref.lm(), m, prompt, sample, Set.of());
            assertArrayEquals(a, b);
            assertEquals(16, a.length);
            long[] g1 = Generator.generate(ref.lm(), m, prompt, GenerationOptions.greedy(6), Set.of());
            long[] g2 = Generator.generate(ref.lm(), m, prompt, GenerationOptions.greedy(6), Set.of());
            assertArrayEquals(g1, g2);
        }
    }

    @Test
    void evalAndGenerateCommandsRun() throws IOException {
        Path report = tmp.resolve("out/report.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), "eval", "--model",
                candidate.toString(), "--reference", reference.toString(), "--data", ids.toString(), "--seqlen", "16",
                "--report", report.toString());
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("mean KLD"), out.toString());
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertEquals(6, json.get("sequences").asInt());
        assertTrue(json.get("mean_kld").asDouble() > 0);

        StringWriter gen = new StringWriter();
        code = JroundCli.execute(new PrintWriter(gen, true), new PrintWriter(err, true), "generate", "--model",
                reference.toString(), "--prompt", "w3 w4", "--max_new_tokens", "5", "--do_sample", "--seed", "4");
        assertEquals(0, code, err.toString());
        StringWriter again = new StringWriter();
        JroundCli.execute(new PrintWriter(again, true), new PrintWriter(err, true), "generate", "--model",
                reference.toString(), "--prompt", "w3 w4", "--max_new_tokens", "5", "--do_sample", "--seed", "4");
        assertEquals(gen.toString(), again.toString());
        assertTrue(gen.toString().startsWith("w3 w4"), gen.toString());

        Path opt = Files.createDirectories(tmp.resolve("unknown"));
        Files.writeString(opt.resolve("config.json"), "{\"model_type\": \"mamba\"}");
        SafetensorsWriter.writeAll(opt, java.util.Map.of("x", TinyLlama.ones(2)), java.util.Map.of());
        StringWriter bad = new StringWriter();
        code = JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(bad, true), "eval",
                "--model", opt.toString(), "--data", ids.toString());
        assertEquals(2, code);
        assertTrue(bad.toString().contains("supported model types: llama, mistral, opt, qwen2, qwen3"), bad.toString());
        assertFalse(bad.toString().contains("Exception"));
    }
}
