package dev.jround.it.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.cli.JroundCli;
import dev.jround.kernel.eval.EvalData;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.eval.GenerationOptions;
import dev.jround.kernel.eval.Generator;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.model.BlockInputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real model ../shared/models/aidreams260K against numbers transformers 5.18 produced for it
 * (tools/fixtures/models/aidreams_reference.py). Skipped when ../shared is absent.
 */
class AidreamsModelTest {

    /** transformers: generate(tok("I dreamed"), max_new_tokens=40, do_sample=False). */
    static final long[] GREEDY = {1, 303, 281, 269, 435, 447, 328, 446, 299, 303, 266, 358, 430, 312, 379, 441, 260, 446,
            262, 421, 392, 275, 280, 302, 450, 405, 403, 399, 448, 429, 465, 265, 434, 317, 431, 434, 289, 408, 326, 446,
            262, 279, 438, 349, 261, 446, 299};
    static final String GREEDY_TEXT =
            "I dreamed, as I sense the nodes, a gentle hum of probability. Contrast emerge, a flower, as";
    /** transformers: exp(mean NLL) over the 256 x 127 predicted tokens of calib_ids.json, float32. */
    static final double CALIB_PPL = 6.048074;

    static Path model;
    static LoadedModel loaded;

    @BeforeAll
    static void open() {
        String shared = System.getProperty("jround.shared");
        assumeTrue(shared != null && Files.isDirectory(Path.of(shared, "models", "aidreams260K")), "../shared is absent");
        model = Path.of(shared, "models", "aidreams260K");
        loaded = new ModelLoader(new ServiceLoaderRegistry()).load(model.toString(), DataType.FLOAT32);
    }

    @AfterAll
    static void close() {
        if (loaded != null) {
            loaded.close();
        }
    }

    @Test
    void tokenizerEncodesAsTransformers() {
        var tok = loaded.tokenizer();
        assertArrayEquals(new long[]{1, 303, 281, 269, 435, 447, 328}, tok.encode("I dreamed", true));
        assertArrayEquals(new long[]{1, 429, 491, 433, 295, 429, 444, 445, 265, 262, 263, 342, 430, 446, 277, 261, 430, 272,
                340, 262, 308, 434, 434, 285, 429, 302, 450, 437, 434, 448}, tok.encode("Once upon a time, there was a little robot.", true));
        // strings without leading spaces: transformers 5 rebuilds Llama tokenizers with a Metaspace pre-tokenizer that
        // skips the dummy prefix before a leading space; jround (like tokenizers and transformers 4) runs tokenizer.json
        assertArrayEquals(new long[]{1, 263, 449, 437, 429, 420, 435, 404}, tok.encode("two  spaces", true));
        assertArrayEquals(new long[]{1, 429, 480, 375, 438, 437, 272, 284, 438, 441, 13, 431, 386, 265, 441, 330, 259, 430},
                tok.encode("Hello world\nsecond line", true));
        assertArrayEquals(new long[]{1, 2, 1, 368, 430, 429, 267, 441, 448}, tok.encode("</s><s>The end.", true));
        assertArrayEquals(new long[]{1, 324, 435, 198, 178, 339, 273, 435, 443, 198, 172, 429, 229, 155, 152},
                tok.encode("naïve café ☕", true));
        assertEquals(1, tok.bosTokenId());
        assertEquals(2, tok.eosTokenId());
        assertEquals(128, tok.modelMaxLength());
    }

    @Test
    void greedyContinuationMatchesTransformers() {
        try (NDManager m = loaded.device().newManager()) {
            long[] prompt = Generator.promptIds(loaded.tokenizer(), "I dreamed", false);
            long[] out = Generator.generate(loaded.lm(), m, prompt, GenerationOptions.greedy(40), Set.of(2L));
            assertArrayEquals(GREEDY, out);
        }
    }

    @Test
    void perplexityOnCalibrationIdsMatchesTransformers() {
        List<long[]> rows = EvalData.load(model.resolve("calib_ids.json"), null, 128);
        assertEquals(256, rows.size());
        EvalReport r = new Evaluator(64).evaluate(loaded, null, rows, "calib_ids.json", null);
        assertEquals(256L * 127, r.tokens());
        double rel = Math.abs(r.perplexity() - CALIB_PPL) / CALIB_PPL;
        assertTrue(rel < 1e-3, "ppl " + r.perplexity() + " vs transformers " + CALIB_PPL);
        System.out.printf("aidreams260K calib ppl %.6f (transformers %.6f), eval of 256x128 tokens %.2f s%n",
                r.perplexity(), CALIB_PPL, r.seconds());
    }

    @Test
    void forwardOf8x128TokensIsTimed() {
        List<long[]> rows = EvalData.load(model.resolve("calib_ids.json"), null, 128).subList(0, 8);
        long[] flat = new long[8 * 128];
        for (int i = 0; i < 8; i++) {
            System.arraycopy(rows.get(i), 0, flat, i * 128, 128);
        }
        try (NDManager m = loaded.device().newManager()) {
            NDArray ids = m.create(flat, new Shape(8, 128));
            loaded.lm().logits(m, ids, BlockInputs.NONE).close();
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t = System.nanoTime();
                NDArray logits = loaded.lm().logits(m, ids, BlockInputs.NONE);
                assertEquals(new Shape(8, 128, 512), logits.getShape());
                logits.close();
                best = Math.min(best, System.nanoTime() - t);
            }
            System.out.printf("aidreams260K full forward 8x128 tokens (float32, weights cached): %.1f ms%n", best / 1e6);
        }
    }

    @Test
    void bfloat16StaysCloseToFloat32() {
        List<long[]> rows = EvalData.load(model.resolve("calib_ids.json"), null, 128).subList(0, 16);
        try (LoadedModel bf16 = new ModelLoader(new ServiceLoaderRegistry()).load(model.toString(), DataType.BFLOAT16)) {
            EvalReport r = new Evaluator(16).evaluate(bf16, loaded, rows, "calib_ids.json", null);
            assertTrue(r.meanKld() > 0 && r.meanKld() < 0.01, "bf16 vs fp32 mean KLD " + r.meanKld());
            assertTrue(r.top1Agreement() > 0.9, "top-1 " + r.top1Agreement());
        }
    }

    @Test
    void evalCommandReadsAQuantizedCheckpointThroughAnInferenceBackend() throws java.io.IOException {
        Path exports = model.resolveSibling("aidreams260K-reference-exports");
        Path packed = exports.resolve("auto_round_w4g32sym");
        assumeTrue(Files.isDirectory(packed), "reference exports absent");
        Path report = Files.createTempFile("eval", ".json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // the packed export dequantizes bit for bit to the fake one: identical distributions
        int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), "eval", "--model",
                packed.toString(), "--reference", exports.resolve("fake_w4g32sym").toString(), "--data",
                model.resolve("calib_ids.json").toString(), "--seqlen", "128", "--limit", "16", "--batch_size", "16",
                "--report", report.toString());
        assertEquals(0, code, err.toString());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile());
        assertEquals(0.0, json.get("mean_kld").asDouble(), 1e-9);
        assertEquals(1.0, json.get("top1_agreement").asDouble());
        assertEquals(json.get("reference_perplexity").asDouble(), json.get("perplexity").asDouble(), 1e-9);
        assertTrue(Files.readString(packed.resolve("config.json")).contains("quantization_config"),
                "the candidate is a packed checkpoint, read through the inference backend");
        Files.deleteIfExists(report);
    }

    @Test
    void generateCommandPrintsTheTransformersContinuation() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "generate", "--model", model.toString(), "--prompt", "I dreamed", "--max_new_tokens", "40");
        assertEquals(0, code, err.toString());
        assertEquals(GREEDY_TEXT, out.toString().strip());
    }
}
