package dev.jround.it.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.it.Shared;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One RTN run written as llm_compressor and fake: the llm_compressor checkpoint loads back through its inference
 * backend with exactly the fake model's KL divergence and perplexity, and the compressed-tensors library decompressed
 * the same run's checkpoint to exactly the fake export's weights (as numbers: the fake keeps some -0.0) ({@code ctcheck/<case>.json}, made by
 * tools/fixtures/llmcompressor/ct_crosscheck.py {@code against-fake}; the hashes are compared to this run's fake weights).
 * With {@code -Djround.ctcheck.write=DIR} both outputs are copied to {@code DIR/<case>/} for the script.
 */
class LlmCompressorRoundTripTest {

    @TempDir
    Path tmp;

    @Test
    void tinyLlamaMixedSchemes() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        Path ids = tmp.resolve("ids.json");
        Random r = new Random(5);
        StringBuilder sb = new StringBuilder("[");
        for (int s = 0; s < 8; s++) {
            sb.append(s == 0 ? "" : ",").append("[1");
            for (int i = 0; i < 31; i++) {
                sb.append(',').append(3 + r.nextInt(TinyLlama.SMALL.vocab() - 3));
            }
            sb.append(']');
        }
        Files.writeString(ids, sb.append(']').toString());
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false)
                .iters(0).disableOptRtn(true)
                .layerConfig(Map.of("model.layers.0.self_attn.q_proj", Map.of("bits", 8, "group_size", -1, "sym", true),
                        "model.layers.1.mlp.down_proj", Map.of("bits", 2)))
                .build().quantizeAndSave(tmp.resolve("out"), "llm_compressor", "fake");
        check("tiny_w4g32_asym_mixed", result.outputs(), model, ids, 8, 3);
    }

    /** The float data types' payloads (FloatElements) written and read back; NVFP4 with 16-bit activations (A4 needs act_max). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"MXFP4", "MXFP8", "NVFP4", "FPW8A16"})
    void tinyLlamaFloatSchemes(String scheme) throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        Path ids = tinyIds();
        var b = AutoRound.builder(model.toString()).scheme(scheme).iters(0).disableOptRtn(true);
        if (scheme.equals("NVFP4")) {
            b.actBits(16);
        }
        QuantizationJob.Result result = b.build().quantizeAndSave(tmp.resolve("out"), "llm_compressor", "fake");
        check("tiny_" + scheme.toLowerCase(java.util.Locale.ROOT), result.outputs(), model, ids, 8, 1);
    }

    private Path tinyIds() throws Exception {
        Path ids = tmp.resolve("ids.json");
        Random r = new Random(5);
        StringBuilder sb = new StringBuilder("[");
        for (int s = 0; s < 8; s++) {
            sb.append(s == 0 ? "" : ",").append("[1");
            for (int i = 0; i < 31; i++) {
                sb.append(',').append(3 + r.nextInt(TinyLlama.SMALL.vocab() - 3));
            }
            sb.append(']');
        }
        return Files.writeString(ids, sb.append(']').toString());
    }

    @Test
    void aidreams260K() throws Exception {
        Path model = Shared.aidreams();
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(true)
                .iters(0).disableOptRtn(true).build().quantizeAndSave(tmp.resolve("out"), "llm_compressor", "fake");
        check("aidreams260K_w4g32_sym", result.outputs(), model, model.resolve("calib_ids.json"), 32, 1);
    }

    private void check(String name, List<Path> outputs, Path model, Path ids, int sequences, int groups) throws Exception {
        assertEquals(2, outputs.size());
        Path llmc = outputs.get(0);
        Path fake = outputs.get(1);
        JsonNode qc = new ObjectMapper().readTree(llmc.resolve("config.json").toFile()).get("quantization_config");
        assertEquals("compressed-tensors", qc.get("quant_method").asText());
        assertEquals(groups, qc.get("config_groups").size());
        String target = System.getProperty("jround.ctcheck.write");
        if (target != null) {
            copy(llmc, Files.createDirectories(Path.of(target).resolve(name).resolve("llm_compressor")));
            copy(fake, Files.createDirectories(Path.of(target).resolve(name).resolve("fake")));
        } else {
            JsonNode fx;
            try (InputStream in = getClass().getResourceAsStream("/ctcheck/" + name + ".json")) {
                assertNotNull(in, "no compressed-tensors fixture for " + name + " (tools/fixtures/llmcompressor/README.md)");
                fx = new ObjectMapper().readTree(in);
            }
            assertEquals(fx.get("quantization_config"), qc, "compressed-tensors re-serializes the config differently");
            JsonNode hashes = fx.get("dequantized_sha256_numeric");
            TreeSet<String> modules = new TreeSet<>();
            hashes.fieldNames().forEachRemaining(modules::add);
            assertTrue(modules.size() >= 10, name + ": " + modules);
            // compressed-tensors decompresses NVFP4 to bfloat16: there its weights are the fake ones rounded once
            boolean bf16 = name.contains("nvfp4");
            fx.get(bf16 ? "equals_fake_rounded_to_bf16" : "equals_fake").fields().forEachRemaining(
                    e -> assertTrue(e.getValue().asBoolean(), e.getKey() + " equals the fake export in Python"));
            try (SafetensorsCheckpoint f = SafetensorsCheckpoint.open(fake)) {
                for (String m : modules) {
                    float[] w = f.floats(m + ".weight");
                    if (bf16) {
                        for (int i = 0; i < w.length; i++) {
                            w[i] = dev.jround.spi.tensor.Floats.roundToBf16(w[i]);
                        }
                    }
                    assertEquals(hashes.get(m).asText(), sha256(w), m + ": compressed-tensors' weights differ from this run's fake export");
                }
            }
        }
        EvalReport fakeReport = Quality.against(fake, model, ids, sequences);
        EvalReport llmcReport = Quality.against(llmc, model, ids, sequences);
        assertTrue(fakeReport.meanKld() > 0, "quantization changes the model");
        assertEquals(fakeReport.meanKld(), llmcReport.meanKld(), 1e-12, "llm_compressor KLD");
        assertEquals(fakeReport.perplexity(), llmcReport.perplexity(), 1e-12, "llm_compressor PPL");
    }

    private static void copy(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** SHA-256 of the values as numbers: -0.0 hashed as +0.0 (the fake export keeps signs the codes cannot hold). */
    private static String sha256(float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) {
            b.putFloat(4 * i, v[i] == 0f ? 0f : v[i]);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }
}
