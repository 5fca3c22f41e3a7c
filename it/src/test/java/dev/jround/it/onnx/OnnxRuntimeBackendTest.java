package dev.jround.it.onnx;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.eval.GenerationOptions;
import dev.jround.kernel.eval.Generator;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnxruntime inference backend runs an onnx export through the kernel's own eval and generate code: the same
 * perplexity, KL divergence and top-1 agreement against the fp model as the fake export of the same pass, the same
 * greedy continuation, and a clear refusal when asked to quantize it.
 */
class OnnxRuntimeBackendTest {

    @TempDir
    Path tmp;

    private final ServiceLoaderRegistry registry = new ServiceLoaderRegistry(OnnxRuntimeBackendTest.class.getClassLoader());

    private List<Path> exportW4G32(Path model) {
        return AutoRound.builder(model.toString()).scheme("W4A16").bits(4).groupSize(32).sym(false).iters(0)
                .disableOptRtn(true).build().quantizeAndSave(tmp.resolve("out"), "fake", "onnx").outputs();
    }

    private static List<long[]> sequences() {
        Random random = new Random(7);
        List<long[]> seqs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long[] s = new long[12 + 3 * i]; // uneven lengths: batches are right-padded
            for (int j = 0; j < s.length; j++) {
                s[j] = 3 + random.nextInt(61);
            }
            seqs.add(s);
        }
        return seqs;
    }

    private static void assertRelative(double expected, double actual, String what) {
        double rel = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
        assertTrue(rel < 1e-4, what + ": fake " + expected + ", onnxruntime " + actual + " (relative " + rel + ")");
    }

    @Test
    void evalAndGenerateThroughOnnxRuntimeMatchTheFakeExport() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        List<Path> out = exportW4G32(model);
        Path fakeDir = out.get(0);
        Path onnxDir = out.get(1);
        ModelLoader plain = new ModelLoader(registry, Path::of);
        ModelLoader ort = new ModelLoader(registry, Path::of).withInferenceBackend("onnxruntime");
        try (LoadedModel fp = ort.load(model.toString(), DataType.FLOAT32); // not an onnx export: loads as usual
             LoadedModel fake = plain.load(fakeDir.toString(), DataType.FLOAT32);
             LoadedModel onnx = ort.load(onnxDir.toString(), DataType.FLOAT32);
             LoadedModel onnxUnnamed = plain.load(onnxDir.toString(), DataType.FLOAT32)) {
            assertFalse(fp.weights().names().isEmpty(), "the reference keeps its weights");
            assertTrue(onnx.description().contains("onnxruntime"), onnx.description());
            assertTrue(onnx.weights().names().isEmpty(), "the graph is run, no weights are presented");
            assertTrue(onnxUnnamed.description().contains("onnxruntime"), "only this backend runs an onnx export: " + onnxUnnamed.description());
            List<long[]> seqs = sequences();
            EvalReport f = new Evaluator(4).evaluate(fake, fp, seqs, "random", null);
            EvalReport o = new Evaluator(4).evaluate(onnx, fp, seqs, "random", null);
            System.out.printf("W4G32 tiny: ppl fake %.6f onnxruntime %.6f; mean KLD fake %.6g onnxruntime %.6g; top-1 %.4f / %.4f%n",
                    f.perplexity(), o.perplexity(), f.meanKld(), o.meanKld(), f.top1Agreement(), o.top1Agreement());
            assertEquals(f.tokens(), o.tokens());
            assertTrue(f.meanKld() > 0, "W4 changes the model");
            assertRelative(f.perplexity(), o.perplexity(), "perplexity");
            assertRelative(f.meanKld(), o.meanKld(), "mean KLD");
            assertEquals(f.top1Agreement(), o.top1Agreement(), 1e-9, "top-1 agreement");
            long[] prompt = {1, 5, 9, 17};
            try (NDManager m = fake.device().newManager()) {
                long[] g = Generator.generate(fake.lm(), m, prompt, GenerationOptions.greedy(20), Set.of());
                long[] h = Generator.generate(onnx.lm(), m, prompt, GenerationOptions.greedy(20), Set.of());
                assertEquals(prompt.length + 20, g.length);
                assertArrayEquals(g, h, "greedy continuation of 20 tokens");
            }
            UnsupportedFeatureException blocks = assertThrows(UnsupportedFeatureException.class, () -> onnx.lm().blockLinears(0));
            assertTrue(blocks.getMessage().contains("logits only"), blocks.getMessage());
        }
    }

    @Test
    void quantizingWhatTheBackendRunsIsRefusedWithOneLine() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        Path onnxDir = exportW4G32(model).get(1);
        // the export's config.json carries no quantization_config, so the run gets past the "already quantized" check
        assertFalse(Files.readString(onnxDir.resolve("config.json")).contains("quantization_config"));
        Path target = tmp.resolve("requant");
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> AutoRound.builder(onnxDir.toString()).scheme("W4A16").iters(0).build().quantizeAndSave(target, "fake"));
        assertTrue(e.getMessage().contains("has no weights to quantize") && e.getMessage().contains("onnxruntime"), e.getMessage());
        assertFalse(Files.exists(target) && hasFiles(target), "nothing written");
        InvalidInputException unknown = assertThrows(InvalidInputException.class,
                () -> new ModelLoader(registry, Path::of).withInferenceBackend("no-such-runtime"));
        assertTrue(unknown.getMessage().contains("no-such-runtime") && unknown.hint().contains("onnxruntime"),
                unknown.getMessage() + " / " + unknown.hint());
    }

    private static boolean hasFiles(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }
}
