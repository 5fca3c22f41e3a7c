package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by the Python {@code safetensors} library (tools/fixtures/safetensors/make_fixtures.py)
 * are read exactly, and jround writes the same tensors to the same bytes.
 */
class SafetensorsPythonCompatTest {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    @TempDir
    Path dir;

    static Path resource(String name) {
        try {
            return Path.of(SafetensorsPythonCompatTest.class.getResource("/safetensors/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger rawBits(HostTensor t, int i) {
        ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        return switch (t.dtype().bytes()) {
            case 1 -> BigInteger.valueOf(b.get(p + i) & 0xFF);
            case 2 -> BigInteger.valueOf(b.getShort(p + 2 * i) & 0xFFFF);
            case 4 -> BigInteger.valueOf(b.getInt(p + 4 * i) & 0xFFFFFFFFL);
            default -> new BigInteger(Long.toUnsignedString(b.getLong(p + 8 * i)));
        };
    }

    @Test
    void readsEveryTensorOfThePythonFileExactly() throws IOException {
        JsonNode expected;
        try (InputStream in = getClass().getResourceAsStream("/safetensors/python-all-dtypes.json")) {
            expected = JSON.readTree(in);
        }
        try (SafetensorsFile f = SafetensorsFile.open(resource("python-all-dtypes.safetensors"))) {
            Map<String, String> meta = new TreeMap<>();
            expected.get("metadata").fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
            assertEquals(meta, new TreeMap<>(f.metadata()));
            assertEquals(expected.get("tensors").size(), f.names().size());
            int checkedElements = 0;
            for (var it = expected.get("tensors").fields(); it.hasNext(); ) {
                var e = it.next();
                String name = e.getKey();
                JsonNode want = e.getValue();
                HostTensor t = f.get(name);
                assertEquals(want.get("dtype").asText(), t.dtype().name(), name);
                long[] shape = new long[want.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = want.get("shape").get(i).asLong();
                }
                assertArrayEquals(shape, t.shape(), name);
                JsonNode bits = want.get("bits");
                assertEquals(bits.size(), t.numel(), name);
                float[] decoded = t.dtype() == DType.I64 || t.dtype() == DType.U64 ? null : t.toFloats();
                ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < bits.size(); i++) {
                    assertEquals(bits.get(i).bigIntegerValue(), rawBits(t, i), name + "[" + i + "] bits");
                    JsonNode v = want.get("values").get(i);
                    if (t.dtype() == DType.I64) {
                        assertEquals(v.asLong(), b.getLong(b.position() + 8 * i), name + "[" + i + "]");
                    } else if (t.dtype() == DType.U64) {
                        assertEquals(v.bigIntegerValue(), rawBits(t, i), name + "[" + i + "]");
                    } else if (t.dtype() == DType.F64) {
                        assertEquals(v.asDouble(), b.getDouble(b.position() + 8 * i), name + "[" + i + "]");
                    } else if (v.isNull()) {
                        assertTrue(Float.isNaN(decoded[i]), name + "[" + i + "] is NaN");
                    } else {
                        // every value of these dtypes is exactly a float32
                        assertEquals((float) v.asDouble(), decoded[i], name + "[" + i + "]");
                        assertEquals(Float.floatToIntBits((float) v.asDouble()), Float.floatToIntBits(decoded[i]), name + "[" + i + "] sign");
                    }
                    checkedElements++;
                }
            }
            assertEquals(148, checkedElements, "elements in the fixture");
        }
    }

    /**
     * jround's writer lays out the Python file's tensors byte for byte as the reference writer did. The
     * reference orders {@code __metadata__} keys by hash, so only that object is compared after sorting.
     */
    @Test
    void writesTheSameBytesAsTheReferenceWriter() throws IOException {
        Path python = resource("python-all-dtypes.safetensors");
        byte[] pyBytes = Files.readAllBytes(python);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafetensorsFile f = SafetensorsFile.open(python)) {
            for (String n : f.names()) {
                tensors.put(n, f.get(n));
            }
            meta = f.metadata();
            SafetensorsWriter.writeAll(dir, tensors, meta);
        }
        byte[] ours = Files.readAllBytes(dir.resolve("model.safetensors"));

        int pyLen = (int) ByteBuffer.wrap(pyBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode pyHeader = (ObjectNode) JSON.readTree(new String(pyBytes, 8, pyLen, StandardCharsets.UTF_8));
        ObjectNode sortedMeta = pyHeader.objectNode();
        new TreeMap<>(meta).forEach(sortedMeta::put);
        pyHeader.set("__metadata__", sortedMeta);
        String expectedHeader = JSON.writeValueAsString(pyHeader);

        int ourLen = (int) ByteBuffer.wrap(ours).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(pyLen, ourLen, "header length");
        assertEquals(expectedHeader, new String(ours, 8, ourLen, StandardCharsets.UTF_8).stripTrailing());
        assertArrayEquals(java.util.Arrays.copyOfRange(pyBytes, 8 + pyLen, pyBytes.length),
                java.util.Arrays.copyOfRange(ours, 8 + ourLen, ours.length), "data area");

        // Left in target/ for tools/fixtures/safetensors/check_jround_file.py (the Python-side read check).
        Path out = Path.of("target", "safetensors-crosscheck");
        Files.createDirectories(out);
        Files.copy(dir.resolve("model.safetensors"), out.resolve("jround-all-dtypes.safetensors"), StandardCopyOption.REPLACE_EXISTING);
    }
}
