package dev.jround.plugin.packed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.inference.InferenceBackend.LoadedCheckpoint;
import dev.jround.lib.hf.GptqPacking;
import dev.jround.lib.hf.PackedLayout;
import dev.jround.lib.hf.ZeroPointConvention;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PackedInferenceBackendTest {

    private final PackedInferenceBackend backend = new PackedInferenceBackend();

    static Path exports() {
        Path p = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models/aidreams260K-reference-exports");
        assumeTrue(Files.isDirectory(p), "reference exports not present");
        return p;
    }

    @ParameterizedTest
    @CsvSource({"auto_round_w4g32sym, fake_w4g32sym", "auto_round_w2g32sym, fake_w2g32sym", "auto_round_w4g32asym, fake_w4g32asym",
            "auto_gptq_w4g32sym, fake_w4g32sym", "auto_gptq_w3g32sym, fake_w3g32sym", "auto_awq_w4g32asym, fake_w4g32asym",
            "fake_w4g32sym, fake_w4g32sym"})
    void referenceExportsLoadAsTheirFakeTwin(String packed, String fake) {
        Path root = exports();
        assertTrue(backend.canLoad(root.resolve(packed)));
        try (LoadedCheckpoint ckpt = backend.load(root.resolve(packed));
             SafetensorsCheckpoint want = SafetensorsCheckpoint.open(root.resolve(fake))) {
            assertFalse(ckpt.config().has("quantization_config"));
            assertEquals("llama", ckpt.config().modelType());
            assertEquals(new TreeSet<>(want.names()), new TreeSet<>(ckpt.weights().names()));
            for (String n : want.names()) {
                HostTensor got = ckpt.weights().get(n);
                assertEquals(DType.F32, got.dtype());
                assertArrayEquals(want.info(n).orElseThrow().shape(), got.shape(), n);
                assertEquals(want.info(n).orElseThrow().shape().length, ckpt.weights().info(n).orElseThrow().shape().length);
                float[] a = want.floats(n);
                float[] b = got.toFloats();
                for (int i = 0; i < a.length; i++) {
                    if (a[i] != b[i]) { // numeric equality: the fake keeps the original sign of exact zeros
                        throw new AssertionError(packed + " " + n + "[" + i + "]: " + b[i] + " != " + a[i]);
                    }
                }
            }
            assertTrue(ckpt.description().contains(packed.startsWith("fake") ? "float" : "packed layers"), ckpt.description());
        }
    }

    @Test
    void refusesWhatItCannotRead(@TempDir Path tmp) throws Exception {
        assertFalse(backend.canLoad(exports().resolve("gguf_q4_0")));
        assertFalse(backend.canLoad(tmp));
        Path fp8 = tmp.resolve("fp8");
        Files.createDirectories(fp8);
        ObjectNode cfg = new ObjectMapper().createObjectNode();
        cfg.put("model_type", "llama");
        cfg.putObject("quantization_config").put("quant_method", "fp8");
        Files.writeString(fp8.resolve("config.json"), cfg.toString());
        SafetensorsWriter.writeAll(fp8, Map.of("x", HostTensor.ofFloats(new float[]{1f}, 1)), Map.of("format", "pt"));
        assertFalse(backend.canLoad(fp8));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> backend.load(fp8));
        assertTrue(e.getMessage().contains("fp8"));
        ((ObjectNode) cfg.get("quantization_config")).put("quant_method", "gptq").put("checkpoint_format", "marlin");
        Files.writeString(fp8.resolve("config.json"), cfg.toString());
        assertThrows(UnsupportedFeatureException.class, () -> backend.load(fp8));
    }

    /** A GPTQModel v2 checkpoint with act-order (a permuted g_idx) and an fp16 bias, as the Hub has them. */
    @Test
    void actOrderGptqV2WithBias(@TempDir Path dir) throws Exception {
        int out = 32;
        int in = 64;
        int groupSize = 16;
        int groups = in / groupSize;
        int bits = 4;
        Random r = new Random(5);
        int[] codes = new int[out * in];
        int[] zeros = new int[out * groups];
        float[] scales = new float[out * groups];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = r.nextInt(16);
        }
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = r.nextInt(16);
            scales[i] = Floats.roundToF16(0.01f + r.nextFloat() * 0.02f);
        }
        int[] gIdx = new int[in];
        for (int k = 0; k < in; k++) {
            gIdx[k] = (k * 7 + 3) % groups; // every group used groupSize times, not contiguous
        }
        float[] bias = new float[out];
        for (int i = 0; i < out; i++) {
            bias[i] = Floats.roundToF16(r.nextFloat());
        }
        Map<String, HostTensor> t = new LinkedHashMap<>();
        String m = "model.layers.0.mlp.up_proj";
        t.put(m + ".qweight", HostTensor.ofInts(GptqPacking.packQweight(codes, out, in, bits), in * bits / 32, out));
        t.put(m + ".qzeros", HostTensor.ofInts(GptqPacking.packQzeros(zeros, out, groups, bits, ZeroPointConvention.V2), groups, out * bits / 32));
        t.put(m + ".scales", PackedLayout.scalesToF16(scales, out, groups));
        t.put(m + ".g_idx", HostTensor.ofInts(gIdx, in));
        t.put(m + ".bias", HostTensor.ofFloats(bias, DType.F16, out));
        t.put("model.norm.weight", HostTensor.ofFloats(new float[]{1.5f, 2f}, DType.BF16, 2));
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"quantization_config\":{\"quant_method\":\"gptq\","
                + "\"bits\":4,\"group_size\":16,\"desc_act\":true,\"sym\":false,\"checkpoint_format\":\"gptq_v2\"}}");
        try (LoadedCheckpoint c = backend.load(dir)) {
            assertEquals(new TreeSet<>(java.util.List.of(m + ".weight", m + ".bias", "model.norm.weight")), new TreeSet<>(c.weights().names()));
            float[] w = c.weights().floats(m + ".weight");
            for (int n = 0; n < out; n++) {
                for (int k = 0; k < in; k++) {
                    int g = n * groups + gIdx[k];
                    assertEquals(scales[g] * (float) (codes[n * in + k] - zeros[g]), w[n * in + k]);
                }
            }
            assertArrayEquals(bias, c.weights().floats(m + ".bias"));
            assertEquals(DType.F16, c.weights().get(m + ".bias").dtype(), "unpacked tensors pass through as stored");
            assertEquals(DType.F32, c.weights().info(m + ".weight").orElseThrow().dtype());
            assertArrayEquals(new float[]{1.5f, 2f}, c.weights().floats("model.norm.weight"));
            assertFalse(c.weights().contains(m + ".qweight"));
        }
    }
}
