package dev.jround.it.onnx;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.tensor.TensorStore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnx export of aidreams260K (skipped without ../shared): Python's onnxruntime and ONNX Runtime Java give the
 * same logits on fixed ids (tools/fixtures/onnx), and one tuning pass written as fake and onnx has the same KL
 * divergence against the fp model at W4G32 and W2G32.
 */
class OnnxAidreamsTest {

    /** The ids tools/fixtures/onnx/aidreams_onnx_logits.py feeds; the fixture holds their logits. */
    static final long[] FIXTURE_IDS = {1, 319, 470, 444, 438, 431, 260, 275, 271, 350, 442, 446, 303, 277, 269, 336};
    /** The RTN export the fixture was made from, kept where the fixture script finds it. */
    static final Path RTN_EXPORT = Path.of("target/onnx-export");

    @TempDir
    Path tmp;

    @Test
    void pythonAndJavaOnnxRuntimeAgreeOnTheRtnExport() throws Exception {
        Path model = Shared.aidreams();
        List<Path> outs = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false).iters(0)
                .disableOptRtn(true).build().quantizeAndSave(RTN_EXPORT.toAbsolutePath(), "onnx", "auto_round").outputs();
        Path out = outs.get(0);
        float[] expected = fixture();
        try (OnnxRunner ort = new OnnxRunner(out)) {
            float[][] logits = ort.logits(FIXTURE_IDS);
            assertEquals(expected.length, logits.length * logits[0].length, "fixture size");
            double max = 0;
            for (int i = 0; i < logits.length; i++) {
                for (int v = 0; v < logits[i].length; v++) {
                    max = Math.max(max, Math.abs(logits[i][v] - expected[i * logits[i].length + v]));
                }
            }
            System.out.printf("aidreams W4G32 RTN onnx: max |java - python| = %.3g%n", max);
            assertTrue(max < 1e-4, "ONNX Runtime Java and Python differ by " + max);
        }
        // the layers the run quantized are those the auto_round export of the same run packs
        Set<String> packed;
        try (TensorStore ar = SafetensorsCheckpoint.open(outs.get(1))) {
            packed = ar.names().stream().filter(n -> n.endsWith(".qweight")).map(n -> n.replace(".qweight", ""))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> nbits = OnnxNodes.read(out.resolve("model.onnx")).ofType("MatMulNBits").stream()
                .map(n -> n.inputs().get(1).replace(".MatMulNBits.B", "")).collect(Collectors.toCollection(TreeSet::new));
        assertTrue(packed.size() > 0);
        assertEquals(packed, nbits, "one MatMulNBits per quantized linear");
    }

    private static float[] fixture() throws IOException {
        try (InputStream in = OnnxAidreamsTest.class.getResourceAsStream("/onnx/aidreams-w4g32-rtn-logits.f32")) {
            assertNotNull(in, "fixture made by tools/fixtures/onnx/aidreams_onnx_logits.py");
            ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            float[] f = new float[b.remaining() / 4];
            b.asFloatBuffer().get(f);
            return f;
        }
    }

    @Test
    void theOnnxExportHasTheFakeExportsKld() throws Exception {
        Path model = Shared.aidreams();
        List<long[]> seqs = EvalData.load(model.resolve("calib_ids.json"), null, 128).subList(0, 8);
        try (FakeLogits fp = new FakeLogits(model)) {
            for (int bits : new int[]{4, 2}) {
                List<Path> out = AutoRound.builder(model.toString()).scheme("W4A16").bits(bits).groupSize(32).sym(false)
                        .seqlen(128).nsamples(32).iters(50).lr(5e-3).dataset(model.resolve("calib.jsonl").toString())
                        .build().quantizeAndSave(tmp.resolve("w" + bits), "fake", "onnx").outputs();
                double kldFake = 0;
                double kldOnnx = 0;
                try (FakeLogits fake = new FakeLogits(out.get(0)); OnnxRunner ort = new OnnxRunner(out.get(1))) {
                    for (long[] s : seqs) {
                        float[][] ref = fp.logits(s);
                        kldFake += FakeLogits.meanKld(ref, fake.logits(s)) / seqs.size();
                        kldOnnx += FakeLogits.meanKld(ref, ort.logits(s)) / seqs.size();
                    }
                    long[] prompt = java.util.Arrays.copyOf(seqs.get(0), 8);
                    assertArrayEquals(fake.greedy(prompt, 20), ort.greedy(prompt, 20), "W" + bits + " greedy continuation");
                }
                System.out.printf("aidreams W%dG32 (50 iters): KLD fake %.6f, onnx %.6f%n", bits, kldFake, kldOnnx);
                assertTrue(kldFake > 0, "quantization changes the model");
                assertEquals(kldFake, kldOnnx, 0.02 * kldFake, "W" + bits + "G32 KLD of onnx vs fake");
            }
        }
    }
}
