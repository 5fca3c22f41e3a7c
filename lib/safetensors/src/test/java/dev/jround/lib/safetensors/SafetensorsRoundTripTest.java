package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.UnsupportedFeatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    private static HostTensor randomTensor(DType dtype, Random rnd, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        byte[] bytes = new byte[Math.toIntExact(n * dtype.bytes())];
        rnd.nextBytes(bytes);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] &= 1;
            }
        }
        return new HostTensor(dtype, shape, ByteBuffer.wrap(bytes));
    }

    private static byte[] bytesOf(HostTensor t) {
        ByteBuffer b = t.data().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static Map<String, HostTensor> everyDtype(long seed) {
        Random rnd = new Random(seed);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (DType d : DType.values()) {
            tensors.put("model.layers.0." + d.name().toLowerCase() + ".weight", randomTensor(d, rnd, 3, 5));
        }
        tensors.put("scalar", randomTensor(DType.F32, rnd));
        tensors.put("empty", randomTensor(DType.F16, rnd, 0, 7));
        return tensors;
    }

    @Test
    void everyDtypeRoundTripsBitExactWithMetadata() {
        Map<String, HostTensor> tensors = everyDtype(1);
        Map<String, String> meta = Map.of("format", "pt", "quant", "w4g128", "note", "größe");
        SafetensorsWriter.writeAll(dir, tensors, meta);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(1, c.files().size());
            assertEquals(meta, c.files().get(0).metadata());
            assertEquals(tensors.keySet(), new java.util.HashSet<>(c.names()));
            for (var e : tensors.entrySet()) {
                HostTensor back = c.get(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertArrayEquals(bytesOf(e.getValue()), bytesOf(back), e.getKey());
            }
            assertEquals(1, c.get("scalar").numel());
            assertEquals(0, c.get("empty").numel());
        }
    }

    @Test
    void headerFollowsTheReferenceLayout() throws IOException {
        Random rnd = new Random(2);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("b", randomTensor(DType.U8, rnd, 3));
        tensors.put("a", randomTensor(DType.F16, rnd, 2));
        tensors.put("c", randomTensor(DType.F32, rnd, 1));
        tensors.put("d", randomTensor(DType.I64, rnd, 1));
        SafetensorsWriter.writeAll(dir, tensors, Map.of("z", "1", "format", "pt"));
        byte[] file = Files.readAllBytes(dir.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "header padded to a multiple of 8");
        String header = new String(file, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"format\":\"pt\",\"z\":\"1\"},"
                + "\"d\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[16,19]}}", header.stripTrailing());
        assertEquals(8 + n + 19, file.length, "the file ends at the end of the last tensor");
    }

    @Test
    void sameTensorsGiveSameBytesWhateverTheArrivalOrder() throws IOException {
        Map<String, HostTensor> tensors = everyDtype(3);
        List<String> reversed = new ArrayList<>(tensors.keySet());
        java.util.Collections.reverse(reversed);
        Path first = Files.createDirectory(dir.resolve("first"));
        Path second = Files.createDirectory(dir.resolve("second"));
        Path third = Files.createDirectory(dir.resolve("third"));
        SafetensorsWriter.writeAll(first, tensors, Map.of("format", "pt"));
        SafetensorsWriter.writeAll(third, tensors, Map.of("format", "pt"));
        SafetensorsWriter w = new SafetensorsWriter(second, "model", Long.MAX_VALUE, Map.of("format", "pt"));
        for (String name : reversed) {
            w.add(name, tensors.get(name));
        }
        w.finish();
        byte[] a = Files.readAllBytes(first.resolve("model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(second.resolve("model.safetensors")));
        assertArrayEquals(a, Files.readAllBytes(third.resolve("model.safetensors")));
    }

    @Test
    void shardsBySizeWritesIndexAndReopens() throws IOException {
        Random rnd = new Random(4);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("t.a", randomTensor(DType.F32, rnd, 10));   // 40 bytes
        tensors.put("t.b", randomTensor(DType.F32, rnd, 10));   // 40: shard 1 holds 80
        tensors.put("t.c", randomTensor(DType.F32, rnd, 10));   // 120 > 100: shard 2
        tensors.put("t.big", randomTensor(DType.BF16, rnd, 75)); // 150 > limit: shard 3 of its own
        tensors.put("t.d", randomTensor(DType.I8, rnd, 8));     // shard 4
        SafetensorsWriter w = new SafetensorsWriter(dir, "model", 100, Map.of("format", "pt"));
        tensors.forEach(w::add);
        List<String> names = w.finish();
        assertEquals(List.of("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors", "model.safetensors.index.json"), names);
        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(40 + 40 + 40 + 150 + 8, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00001-of-00004.safetensors", index.get("weight_map").get("t.b").asText());
        assertEquals("model-00002-of-00004.safetensors", index.get("weight_map").get("t.c").asText());
        assertEquals("model-00003-of-00004.safetensors", index.get("weight_map").get("t.big").asText());
        assertEquals("model-00004-of-00004.safetensors", index.get("weight_map").get("t.d").asText());
        List<String> keys = new ArrayList<>();
        index.get("weight_map").fieldNames().forEachRemaining(keys::add);
        List<String> sorted = new ArrayList<>(keys);
        java.util.Collections.sort(sorted);
        assertEquals(sorted, keys, "weight_map keys are sorted");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(4, c.files().size());
            for (var e : tensors.entrySet()) {
                assertArrayEquals(bytesOf(e.getValue()), bytesOf(c.get(e.getKey())));
            }
            for (SafetensorsFile f : c.files()) {
                assertEquals(Map.of("format", "pt"), f.metadata(), "every shard carries the metadata");
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }

        // A later single-file export into the same directory must not be shadowed by the old index.
        SafetensorsWriter.writeAll(dir, Map.of("only", tensors.get("t.a")), null);
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("only"), List.copyOf(c.names()));
            assertEquals(Map.of("format", "pt"), c.files().get(0).metadata());
        }
    }

    @Test
    void writerRefusesMisuse() {
        SafetensorsWriter w = new SafetensorsWriter(dir);
        HostTensor t = HostTensor.ofFloats(new float[]{1, 2}, 2);
        w.add("x", t);
        assertThrows(IllegalArgumentException.class, () -> w.add("x", t));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", t));
        w.finish();
        assertThrows(IllegalStateException.class, w::finish, "a second finish must not overwrite the output");
        assertThrows(IllegalStateException.class, () -> w.add("y", t));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertArrayEquals(new float[]{1, 2}, c.floats("x"));
        }
    }

    @Test
    void abandonedWriterLeavesNothingThatLooksFinished() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter(dir, "model", 8, null);
        w.add("a", HostTensor.ofFloats(new float[]{1, 2}, 2));
        w.add("b", HostTensor.ofFloats(new float[]{3, 4}, 2));
        w.close();
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void encodersAndDecodersOfHostTensor() {
        float[] values = {0f, 1f, -2.5f, 448f, 1000f, 0.001f};
        HostTensor e4 = HostTensor.ofFloats(values, DType.F8_E4M3, 6);
        assertArrayEquals(new float[]{0f, 1f, -2.5f, 448f, 448f, Floats.roundToE4m3(0.001f)}, e4.toFloats());
        HostTensor f64 = HostTensor.ofFloats(values, DType.F64, 2, 3);
        assertArrayEquals(values, f64.toFloats());
        ByteBuffer u64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(7L).flip();
        assertArrayEquals(new float[]{0x1p64f, 7f}, new HostTensor(DType.U64, new long[]{2}, u64).toFloats());
        ByteBuffer u16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFF).putShort((short) 3).flip();
        assertArrayEquals(new int[]{65535, 3}, new HostTensor(DType.U16, new long[]{2}, u16).toInts());
        ByteBuffer e8 = ByteBuffer.wrap(new byte[]{(byte) 127, (byte) 126, (byte) 130, (byte) 255});
        float[] scales = new HostTensor(DType.F8_E8M0, new long[]{4}, e8).toFloats();
        assertArrayEquals(new float[]{1f, 0.5f, 8f}, Arrays.copyOf(scales, 3));
        assertTrue(Float.isNaN(scales[3]));
    }

    @Test
    void dtypeTags() {
        assertEquals(DType.F8_E4M3, DType.fromTag("F8_E4M3", "here"));
        CorruptInputException unknown = assertThrows(CorruptInputException.class, () -> DType.fromTag("F17", "of tensor 'w'"));
        assertTrue(unknown.getMessage().contains("F17") && unknown.hint().contains("BF16"), unknown.getMessage());
        assertThrows(UnsupportedFeatureException.class, () -> DType.fromTag("C64", "of tensor 'w'"));
    }
}
