package dev.jround.it.onnx;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsWriter;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The roles beyond plain Llama that the onnx graph builds: Qwen2's q/k/v biases (bias {@code Add} after
 * MatMulNBits) and Qwen3's per-head q/k norms, on synthetic checkpoints; ONNX Runtime must match the fake export.
 */
class OnnxArchitecturesTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen3"})
    void biasesAndHeadNormsRunLikeTheFakeModel(String type) throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve(type), 0f);
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(model.resolve("config.json").toFile());
        String arch = type.equals("qwen2") ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM";
        cfg.put("model_type", type).put("head_dim", 16).putArray("architectures").add(arch);
        json.writeValue(model.resolve("config.json").toFile(), cfg);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        try (TensorStore in = SafetensorsCheckpoint.open(model)) {
            for (String n : in.names()) {
                t.put(n, HostTensor.ofFloats(in.floats(n), in.get(n).shape()));
            }
        }
        Random r = new Random(5);
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".self_attn.";
            if (type.equals("qwen2")) {
                t.put(p + "q_proj.bias", noise(r, 64, 0.1f, 0));
                t.put(p + "k_proj.bias", noise(r, 32, 0.1f, 0));
                t.put(p + "v_proj.bias", noise(r, 32, 0.1f, 0));
            } else {
                t.put(p + "q_norm.weight", noise(r, 16, 0.2f, 1));
                t.put(p + "k_norm.weight", noise(r, 16, 0.2f, 1));
            }
        }
        Files.delete(model.resolve("model.safetensors"));
        SafetensorsWriter.writeAll(model, t, Map.of("format", "pt"));
        List<Path> out = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false).iters(0)
                .disableOptRtn(true).build().quantizeAndSave(tmp.resolve("out-" + type), "fake", "onnx").outputs();
        long[] ids = {1, 5, 9, 17, 33, 4, 60, 12};
        try (FakeLogits fake = new FakeLogits(out.get(0)); OnnxRunner ort = new OnnxRunner(out.get(1))) {
            double diff = FakeLogits.maxAbsDiff(fake.logits(ids), ort.logits(ids));
            System.out.printf("%s tiny W4G32: max |fake - onnx| = %.3g%n", type, diff);
            assertTrue(diff < 1e-3, type + " logits differ by " + diff);
            assertArrayEquals(fake.greedy(new long[]{1, 5, 9}, 20), ort.greedy(new long[]{1, 5, 9}, 20), type + " greedy");
        }
    }

    private static HostTensor noise(Random r, int n, float scale, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = offset + scale * (float) r.nextGaussian();
        }
        return HostTensor.ofFloats(v, n);
    }
}
