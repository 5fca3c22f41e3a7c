package dev.jround.it.onnx;

import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.spi.UnsupportedFeatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnx export of a synthetic GQA Llama (always runs): ONNX Runtime Java loads it as it is, every quantized
 * linear is a MatMulNBits node, its logits match the fake export's, and greedy decoding through the key/value
 * cache continues exactly as the fake model does.
 */
class OnnxExportTest {

    @TempDir
    Path tmp;

    private static final long[] IDS = {1, 5, 9, 17, 33, 4, 60, 12, 7, 41, 22, 3};

    private List<Path> export(Path model, int bits, int group, boolean sym) {
        return AutoRound.builder(model.toString()).scheme("W4A16").bits(bits).groupSize(group).sym(sym).iters(0)
                .disableOptRtn(true).build().quantizeAndSave(tmp.resolve("out" + bits + "g" + group), "fake", "onnx")
                .outputs();
    }

    @Test
    void onnxRuntimeRunsTheExportLikeTheFakeModel() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        // W4G32 asym, W2G32 sym, W8G32 sym, W4 per channel asym (one padded block per row)
        int[][] cases = {{4, 32, 0}, {2, 32, 1}, {8, 32, 1}, {4, -1, 0}};
        for (int[] c : cases) {
            int bits = c[0];
            List<Path> out = export(model, bits, c[1], c[2] == 1);
            Path onnx = out.get(1);
            assertTrue(Files.isRegularFile(onnx.resolve("genai_config.json")));
            assertFalse(Files.exists(onnx.resolve("model.onnx.data")), "a small model keeps its weights inline");
            OnnxNodes nodes = OnnxNodes.read(onnx.resolve("model.onnx"));
            Set<String> quantized = nodes.ofType("MatMulNBits").stream()
                    .peek(n -> assertEquals("com.microsoft", n.domain()))
                    .map(n -> n.inputs().get(1).replace(".MatMulNBits.B", "")).collect(Collectors.toCollection(TreeSet::new));
            Set<String> expected = new TreeSet<>();
            for (int l = 0; l < 2; l++) {
                for (String m : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                    expected.add("model.layers." + l + "." + m);
                }
            }
            assertEquals(expected, quantized, "one MatMulNBits per quantized linear");
            assertEquals(0, nodes.ofType("MatMul").stream().filter(n -> n.inputs().get(1).endsWith(".T")).count(),
                    "no linear left in float");
            try (FakeLogits fake = new FakeLogits(out.get(0)); OnnxRunner ort = new OnnxRunner(onnx)) {
                double diff = FakeLogits.maxAbsDiff(fake.logits(IDS), ort.logits(IDS));
                System.out.printf("W%dG%d tiny: max |fake - onnx| = %.3g%n", bits, c[1], diff);
                assertTrue(diff < 1e-3, "W" + bits + " logits differ by " + diff);
                long[] prompt = {1, 5, 9, 17};
                assertArrayEquals(fake.greedy(prompt, 20), ort.greedy(prompt, 20), "W" + bits + " greedy continuation");
            }
        }
    }

    @Test
    void whatMatMulNBitsCannotHoldIsRefusedBeforeAnyWork() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        UnsupportedFeatureException three = assertThrows(UnsupportedFeatureException.class,
                () -> AutoRound.builder(model.toString()).scheme("W4A16").bits(3).groupSize(32).iters(0)
                        .disableOptRtn(true).build().quantizeAndSave(tmp.resolve("o3"), "onnx"));
        assertTrue(three.getMessage().contains("model.layers.0.self_attn.q_proj") && three.getMessage().contains("2, 4 or 8"),
                three.getMessage());
        UnsupportedFeatureException odd = assertThrows(UnsupportedFeatureException.class,
                () -> AutoRound.builder(model.toString()).scheme("W4A16").groupSize(48).iters(0)
                        .disableOptRtn(true).build().quantizeAndSave(tmp.resolve("o48"), "onnx"));
        assertTrue(odd.getMessage().contains("powers of two"), odd.getMessage());
        assertFalse(Files.exists(tmp.resolve("o3")) && Files.list(tmp.resolve("o3")).findAny().isPresent(), "nothing written");
    }
}
