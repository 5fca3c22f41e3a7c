package dev.jround.plugin.llmcompressor;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.Floats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The compressed-tensors library itself against jround (fixtures from tools/fixtures/llmcompressor/ct_crosscheck.py,
 * see its README.md):
 * <ul>
 *   <li>{@code ctcheck/fixtures.json}: compressed-tensors' own dequantizer read each {@link CtCases} export; the export
 *       must still have the bytes it read, compressed-tensors' weights must equal the quantizer's bit for bit (SHA-256 of
 *       the float32 values) and its re-serialization of the quantization_config must equal jround's;</li>
 *   <li>{@code ctcheck/reference/}: a tiny checkpoint compressed-tensors' compressors wrote; jround's reader must
 *       decompress it to compressed-tensors' own weights.</li>
 * </ul>
 * With {@code -Djround.ctcheck.write=DIR} the jround checkpoints are written into {@code DIR/<case>/} instead.
 */
class CompressedTensorsCrossCheckTest {

    static List<String> cases() {
        return CtCases.NAMES;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void compressedTensorsDecompressesJroundsCheckpoint(String name, @TempDir Path tmp) throws Exception {
        ExportFixture f = CtCases.fixture(tmp, name);
        Path out = CtCases.export(f, tmp.resolve("out"));
        String target = System.getProperty("jround.ctcheck.write");
        if (target != null) {
            Path dir = Files.createDirectories(Path.of(target).resolve(name));
            for (String file : new String[]{"model.safetensors", "config.json"}) {
                Files.copy(out.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            return;
        }
        JsonNode fx = resource("/ctcheck/fixtures.json").get(name);
        assertNotNull(fx, "no compressed-tensors fixture for " + name + "; regenerate (tools/fixtures/llmcompressor/README.md)");
        assertEquals(fx.get("safetensors_sha256").asText(), sha256(Files.readAllBytes(out.resolve("model.safetensors"))),
                "the exporter no longer writes the bytes compressed-tensors read; regenerate the fixture");
        JsonNode mine = new ObjectMapper().readTree(Files.readString(out.resolve("config.json"))).get("quantization_config");
        assertEquals(fx.get("quantization_config"), mine, "compressed-tensors re-serializes the config differently");
        JsonNode ct = fx.get("dequantized_sha256");
        assertEquals(new TreeSet<>(f.quantized.keySet()), names(ct));
        for (QuantizedLayer l : f.quantized.values()) {
            float[] expected = l.payload() instanceof FloatElements fe && fe.globalScale() != 1f ? nvfp4AsCompressedTensors(fe) : l.dequantized();
            assertEquals(ct.get(l.name()).asText(), sha256(expected), l.name() + ": compressed-tensors decompresses other weights");
        }
    }

    @Test
    void jroundReadsWhatCompressedTensorsWrote() throws Exception {
        Path dir = Path.of(getClass().getResource("/ctcheck/reference/config.json").toURI()).getParent();
        JsonNode expected = resource("/ctcheck/reference/expected.json").get("dequantized_sha256");
        try (CompressedTensorsCheckpoint c = CompressedTensorsCheckpoint.open(dir)) {
            assertEquals(names(expected), new TreeSet<>(c.compressedModules()));
            for (String m : c.compressedModules()) {
                assertEquals(expected.get(m).asText(), sha256(c.layer(m, 0).dequantized()), m);
            }
            assertEquals(4, c.schemeOf("model.layers.0.self_attn.q_proj").bits());
            assertEquals(3, c.schemeOf("model.layers.0.mlp.down_proj").bits());
        }
        // the inference backend presents the same weights under their Hugging Face names
        var backend = new CompressedTensorsBackend();
        assertEquals(true, backend.canLoad(dir));
        try (var loaded = backend.load(dir)) {
            assertEquals(expected.get("model.layers.0.mlp.up_proj").asText(),
                    sha256(loaded.weights().get("model.layers.0.mlp.up_proj.weight").toFloats()));
            assertEquals(false, loaded.weights().names().contains("model.layers.0.mlp.up_proj.weight_packed"));
            assertEquals(false, ConfigJson.tree(loaded.config()).has("quantization_config"));
        }
    }

    /**
     * compressed-tensors' NVFP4 decompression is {@code bf16(fp4 * (scale / global))} (the scale divided first, the
     * product rounded to bfloat16), not the payload's float32 {@code fp4 * scale / global}; the MX and FP8 formats
     * decompress to the payload's values exactly.
     */
    static float[] nvfp4AsCompressedTensors(FloatElements fe) {
        float[] w = new float[fe.count()];
        for (int r = 0; r < fe.rows(); r++) {
            for (int c = 0; c < fe.cols(); c++) {
                float s = fe.scaleOf(r, c) / fe.globalScale();
                w[r * fe.cols() + c] = Floats.roundToBf16(fe.format().decode(fe.element(r * fe.cols() + c)) * s);
            }
        }
        return w;
    }

    private static TreeSet<String> names(JsonNode o) {
        TreeSet<String> r = new TreeSet<>();
        o.fieldNames().forEachRemaining(r::add);
        return r;
    }

    private JsonNode resource(String path) throws Exception {
        try (InputStream in = getClass().getResourceAsStream(path)) {
            assertNotNull(in, path + " is missing; regenerate (tools/fixtures/llmcompressor/README.md)");
            return new ObjectMapper().readTree(in);
        }
    }

    static String sha256(float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return sha256(b.array());
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
