package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.UnsupportedFeatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every kind of broken file gives one CorruptInputException that names the file and, where there is one, the tensor. */
class SafetensorsCorruptionTest {

    @TempDir
    Path dir;

    private Path write(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return writeRaw(name, h.length, h, new byte[dataBytes]);
    }

    private Path writeRaw(String name, long declaredHeaderLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static <T extends JroundException> T assertRejected(Class<T> type, Path file, String tensor, String... phrases) {
        T e = assertThrows(type, () -> SafetensorsCheckpoint.open(file).close());
        String m = e.getMessage();
        assertTrue(m.contains(file.getFileName().toString()), "names the file: " + m);
        if (tensor != null) {
            assertTrue(m.contains("'" + tensor + "'"), "names the tensor " + tensor + ": " + m);
        }
        for (String p : phrases) {
            assertTrue(m.contains(p), "says '" + p + "': " + m);
        }
        assertTrue(m.lines().count() == 1, "one line: " + m);
        return e;
    }

    @Test
    void validHandWrittenFileOpens() throws IOException {
        Path p = write("ok.safetensors", "{" + entry("w", "F32", "[2,2]", 0, 16) + "," + entry("b", "F16", "[2]", 16, 20) + "}", 20);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(p)) {
            assertEquals(2, c.names().size());
        }
    }

    @Test
    void truncatedFile() throws IOException {
        SafetensorsWriter.writeAll(dir, Map.of("layer.weight", HostTensor.ofFloats(new float[64], 8, 8),
                "layer.bias", HostTensor.ofFloats(new float[8], 8)), null);
        Path p = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        // tensors are laid out by name within a dtype, so layer.weight is the one cut short
        assertRejected(CorruptInputException.class, p, "layer.weight", "truncated");

        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(30);
        }
        assertRejected(CorruptInputException.class, p, null, "truncated");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(5);
        }
        assertRejected(CorruptInputException.class, p, null, "shorter than the 8-byte header length");
    }

    @Test
    void headerLengthTooLarge() throws IOException {
        byte[] h = ("{" + entry("w", "F32", "[1]", 0, 4) + "}").getBytes(StandardCharsets.UTF_8);
        Path p = writeRaw("long.safetensors", h.length + 1000, h, new byte[4]);
        assertRejected(CorruptInputException.class, p, null, "runs past the end");
        Path huge = writeRaw("huge.safetensors", 200_000_000L, h, new byte[4]);
        assertRejected(CorruptInputException.class, huge, null, "200000000");
        Path negative = writeRaw("negative.safetensors", -8, h, new byte[4]);
        assertRejected(CorruptInputException.class, negative, null, "header length");
    }

    @Test
    void badJson() throws IOException {
        Path p = write("badjson.safetensors", "{" + entry("first", "F32", "[1]", 0, 4) + ",\"second\":{\"dtype\":\"F32\",\"shape\":[1] \"data_offsets\":[4,8]}}", 8);
        assertRejected(CorruptInputException.class, p, "second", "not valid JSON");
        Path notObject = write("array.safetensors", "[1,2,3]", 0);
        assertRejected(CorruptInputException.class, notObject, null, "not a JSON object");
        Path trailing = write("trailing.safetensors", "{" + entry("w", "F32", "[1]", 0, 4) + "} {}", 4);
        assertRejected(CorruptInputException.class, trailing, "w", "not valid JSON");
        Path duplicate = write("dup.safetensors", "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}", 8);
        assertRejected(CorruptInputException.class, duplicate, "w", "Duplicate");
        byte[] latin1 = "{\"w\u00e9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}".getBytes(StandardCharsets.ISO_8859_1);
        Path badUtf8 = writeRaw("latin1.safetensors", latin1.length, latin1, new byte[1]);
        assertRejected(CorruptInputException.class, badUtf8, null, "UTF-8");
        Path missing = write("missing.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4);
        assertRejected(CorruptInputException.class, missing, "w", "shape");
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = write("dtype.safetensors", "{" + entry("w", "F12", "[1]", 0, 4) + "}", 4);
        CorruptInputException e = assertRejected(CorruptInputException.class, p, "w", "unknown dtype 'F12'");
        assertTrue(e.hint().contains("F8_E4M3"), e.hint());
        Path complex = write("complex.safetensors", "{" + entry("w", "C64", "[1]", 0, 8) + "}", 8);
        assertRejected(UnsupportedFeatureException.class, complex, "w", "C64");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path p = write("range.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 8);
        assertRejected(CorruptInputException.class, p, "b", "beyond the data area of 8 bytes");
        Path negative = write("neg.safetensors", "{" + entry("a", "F32", "[1]", -4, 0) + "}", 4);
        assertRejected(CorruptInputException.class, negative, "a", "non-negative integer");
        Path backwards = write("back.safetensors", "{" + entry("a", "U8", "[0]", 4, 0) + "}", 4);
        assertRejected(CorruptInputException.class, backwards, "a", "end before they begin");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path p = write("overlap.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12);
        assertRejected(CorruptInputException.class, p, "b", "overlap", "'a'");
    }

    @Test
    void gapsAndTrailingBytes() throws IOException {
        Path gap = write("gap.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", 12);
        assertRejected(CorruptInputException.class, gap, "b", "gap");
        Path trailing = write("tail.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 9);
        assertRejected(CorruptInputException.class, trailing, "a", "5 bytes follow the last tensor");
    }

    @Test
    void sizeMismatch() throws IOException {
        Path p = write("size.safetensors", "{" + entry("w", "BF16", "[3,2]", 0, 8) + "}", 8);
        assertRejected(CorruptInputException.class, p, "w", "spans 8 bytes", "needs 12");
        Path overflow = write("overflow.safetensors", "{" + entry("w", "F32", "[4611686018427387904,4]", 0, 4) + "}", 4);
        assertRejected(CorruptInputException.class, overflow, "w", "overflows");
        Path fraction = write("fraction.safetensors", "{" + entry("w", "F32", "[1.5]", 0, 4) + "}", 4);
        assertRejected(CorruptInputException.class, fraction, "w", "shape");
    }

    @Test
    void nonStringMetadata() throws IOException {
        Path p = write("meta.safetensors", "{\"__metadata__\":{\"format\":\"pt\",\"step\":3}," + entry("w", "F32", "[1]", 0, 4) + "}", 4);
        assertRejected(CorruptInputException.class, p, "step", "not a string");
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter(dir, "model", 16, null);
        w.add("model.embed.weight", HostTensor.ofFloats(new float[4], 4));
        w.add("model.norm.weight", HostTensor.ofFloats(new float[4], 4));
        w.finish();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        Path index = dir.resolve("model.safetensors.index.json");
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains(index.getFileName().toString())
                && e.getMessage().contains("'model.norm.weight'")
                && e.getMessage().contains("model-00002-of-00002.safetensors")
                && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void indexNamingATensorItsShardLacksOrAPathOutsideTheDirectory() throws IOException {
        SafetensorsWriter.writeAll(dir, Map.of("a", HostTensor.ofFloats(new float[1], 1)), null);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\":{\"a\":\"model.safetensors\",\"ghost\":\"model.safetensors\"}}");
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("'ghost'") && e.getMessage().contains("does not contain it"), e.getMessage());
        Files.writeString(index, "{\"weight_map\":{\"a\":\"../elsewhere/model.safetensors\"}}");
        e = assertThrows(CorruptInputException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("not a file name"), e.getMessage());
        Files.writeString(index, "{\"weight_map\":[]}");
        e = assertThrows(CorruptInputException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("weight_map"), e.getMessage());
    }

    @Test
    void tensorInTwoShards() throws IOException {
        Path a = Files.createDirectory(dir.resolve("a"));
        SafetensorsWriter.writeAll(a, Map.of("w", HostTensor.ofFloats(new float[1], 1)), null);
        Files.copy(a.resolve("model.safetensors"), a.resolve("model-00001-of-00002.safetensors"));
        Files.move(a.resolve("model.safetensors"), a.resolve("model-00002-of-00002.safetensors"));
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> SafetensorsCheckpoint.open(a));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("model-00001-of-00002.safetensors"), e.getMessage());
    }
}
