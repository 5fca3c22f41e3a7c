package dev.jround.plugin.gguf;

import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file opened for reading: header, typed metadata, tensor infos, and each tensor's raw bytes
 * (memory-mapped) or dequantized values. Structure is validated as llama.cpp does: magic and version,
 * unique keys and names, known types, whole blocks per row, and offsets that are the padded running sums
 * of the tensor sizes.
 */
public final class GgufFile implements Closeable {

    private final Path path;
    private final FileChannel channel;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
    private final int alignment;
    private final long dataStart;

    private GgufFile(Path path, FileChannel channel, int version, Map<String, GgufValue> metadata,
                     List<GgufTensorInfo> tensors, int alignment, long dataStart) {
        this.path = path;
        this.channel = channel;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = List.copyOf(tensors);
        this.alignment = alignment;
        this.dataStart = dataStart;
        for (GgufTensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
    }

    public static boolean looksLikeGguf(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(b, 0) != 4) {
                return false;
            }
            return b.getInt(0) == GgufWriter.MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    public static GgufFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new InvalidInputException("no such GGUF file: " + path, "give the path of a .gguf file");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path, e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the parse error is what matters
            }
            throw e;
        }
    }

    /** Smallest encodings: a tensor info (empty name, 1 dim) and a key/value pair (empty key, one byte value). */
    private static final long MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8;
    private static final long MIN_KV = 8 + 4 + 1;

    private static GgufFile parse(Path path, FileChannel ch) {
        long fileSize;
        try {
            fileSize = ch.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
        if (fileSize < 4) {
            throw new CorruptInputException(path + " is " + (fileSize == 0 ? "empty" : fileSize + " bytes long")
                    + ", not a GGUF file", "GGUF files start with the bytes 'GGUF' and a 20-byte header");
        }
        Cursor c = new Cursor(ch, path, fileSize);
        c.what = "the header";
        int magic = c.i32();
        if (magic != GgufWriter.MAGIC) {
            throw new CorruptInputException(path + " is not a GGUF file (bad magic 0x" + Integer.toHexString(magic) + ")",
                    "GGUF files start with the bytes 'GGUF'");
        }
        int version = c.i32();
        if (version != 2 && version != 3) {
            throw new CorruptInputException(path + " has GGUF version " + version, "jround reads GGUF versions 2 and 3");
        }
        long nTensors = c.i64();
        long nKv = c.i64();
        // counts are bounded by what the file can hold, so no loop or allocation is sized by a lie
        long room = fileSize - c.position();
        if (nTensors < 0 || nTensors > 1_000_000 || nTensors > room / MIN_TENSOR_INFO) {
            throw new CorruptInputException(path + ": header claims " + Long.toUnsignedString(nTensors)
                    + " tensors, more than the " + fileSize + "-byte file can describe", "the file is corrupt or not a GGUF file");
        }
        if (nKv < 0 || nKv > 1_000_000 || nKv > room / MIN_KV) {
            throw new CorruptInputException(path + ": header claims " + Long.toUnsignedString(nKv)
                    + " metadata keys, more than the " + fileSize + "-byte file can hold", "the file is corrupt or not a GGUF file");
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            c.what = "metadata key #" + i;
            String key = c.string();
            c.what = "metadata key " + key;
            if (key.isEmpty() || md.containsKey(key)) {
                throw new CorruptInputException(path + ": empty or duplicate metadata key '" + key + "'", null);
            }
            GgufValueType t = GgufValueType.fromId(c.i32(), "for key " + key + " in " + path);
            md.put(key, readValue(c, t, key, fileSize));
        }
        int alignment = GgufWriter.ALIGNMENT;
        GgufValue al = md.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32 || Long.bitCount(al.asLong()) != 1) {
                throw new CorruptInputException(path + ": general.alignment must be a UINT32 power of two", null);
            }
            alignment = (int) al.asLong();
        }
        List<GgufTensorInfo> infos = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        long expectedOffset = 0;
        for (long i = 0; i < nTensors; i++) {
            c.what = "tensor info #" + i;
            String name = c.string();
            c.what = "tensor info " + name;
            if (!seen.add(name)) {
                throw new CorruptInputException(path + ": duplicate tensor " + name, null);
            }
            int nDims = c.i32();
            if (nDims < 1 || nDims > 4) {
                throw new CorruptInputException(path + ": tensor " + name + " has " + nDims + " dimensions", "GGUF tensors have 1 to 4");
            }
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = c.i64();
                if (ne[d] < 0) {
                    throw new CorruptInputException(path + ": tensor " + name + " has a negative dimension", null);
                }
            }
            GgmlType type = GgmlType.fromId(c.i32(), "(tensor " + name + " in " + path + ")");
            long offset = c.i64();
            if (ne[0] % type.blockSize() != 0) {
                throw new CorruptInputException(path + ": tensor " + name + " row of " + ne[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize(), null);
            }
            if (offset != expectedOffset) {
                throw new CorruptInputException(path + ": tensor " + name + " has offset " + offset + ", expected " + expectedOffset,
                        "offsets must be the padded running sums of the tensor sizes in info order");
            }
            GgufTensorInfo info = new GgufTensorInfo(name, ne, type, offset);
            long bytes = byteSize(path, info, fileSize);
            expectedOffset += (bytes + alignment - 1) / alignment * alignment;
            infos.add(info);
        }
        long dataStart = (c.position() + alignment - 1) / alignment * alignment;
        for (GgufTensorInfo t : infos) {
            // offsets and sizes are each below the file size here, so the sum cannot overflow
            if (dataStart + t.offset() + t.byteSize() > fileSize) {
                throw new CorruptInputException(path + ": tensor " + t.name() + " (bytes " + (dataStart + t.offset()) + ".."
                        + (dataStart + t.offset() + t.byteSize()) + ") extends past the end of the " + fileSize + "-byte file",
                        "the file is truncated; download or export it again");
            }
        }
        return new GgufFile(path, ch, version, md, infos, alignment, dataStart);
    }

    /** The tensor's byte size, refused when its dimensions overflow or it cannot fit in the file. */
    private static long byteSize(Path path, GgufTensorInfo info, long fileSize) {
        long bytes;
        try {
            long elements = 1;
            for (long d : info.ne()) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements / info.type().blockSize(), (long) info.type().typeSize());
        } catch (ArithmeticException e) {
            bytes = -1;
        }
        if (bytes < 0 || bytes > fileSize) {
            throw new CorruptInputException(path + ": tensor " + info.name() + " has dimensions " + java.util.Arrays.toString(info.ne())
                    + ", more " + info.type() + " data than the " + fileSize + "-byte file holds", "the file is corrupt");
        }
        return bytes;
    }

    /** Fewest bytes one element of an array of {@code t} takes (a string is at least its 8-byte length). */
    private static int minBytes(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            default -> 8;
        };
    }

    private static GgufValue readValue(Cursor c, GgufValueType t, String key, long fileSize) {
        if (t == GgufValueType.ARRAY) {
            GgufValueType et = GgufValueType.fromId(c.i32(), "(array element of " + key + " in " + c.path + ")");
            if (et == GgufValueType.ARRAY) {
                throw new CorruptInputException(c.path + ": nested array in GGUF key " + key, "GGUF arrays hold scalars or strings");
            }
            long n = c.i64();
            long room = fileSize - c.position();
            if (n < 0 || n > Integer.MAX_VALUE - 8 || n > room / minBytes(et)) {
                throw new CorruptInputException(c.path + ": metadata array " + key + " claims " + Long.toUnsignedString(n)
                        + " " + et + " elements, more than the " + room + " bytes left in the file can hold",
                        "the file is truncated or corrupt");
            }
            List<Object> values = new ArrayList<>((int) Math.min(n, 1 << 20));
            for (long i = 0; i < n; i++) {
                values.add(readScalar(c, et));
            }
            return new GgufValue(t, et, Collections.unmodifiableList(values));
        }
        return new GgufValue(t, null, readScalar(c, t));
    }

    private static Object readScalar(Cursor c, GgufValueType t) {
        return switch (t) {
            case UINT8 -> (long) (c.u8());
            case INT8 -> (long) (byte) c.u8();
            case UINT16 -> (long) (c.i16() & 0xFFFF);
            case INT16 -> (long) c.i16();
            case UINT32 -> c.i32() & 0xFFFFFFFFL;
            case INT32 -> (long) c.i32();
            case UINT64, INT64 -> c.i64();
            case FLOAT32 -> Float.intBitsToFloat(c.i32());
            case FLOAT64 -> Double.longBitsToDouble(c.i64());
            case BOOL -> {
                int v = c.u8();
                if (v > 1) {
                    throw new CorruptInputException("bool value " + v + " in " + c.what + " of " + c.path, "GGUF bools are 0 or 1");
                }
                yield v == 1;
            }
            case STRING -> c.string();
            case ARRAY -> throw new IllegalStateException();
        };
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataStart() {
        return dataStart;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public GgufValue get(String key) {
        return metadata.get(key);
    }

    public String getString(String key, String dflt) {
        GgufValue v = metadata.get(key);
        return v == null || v.type() != GgufValueType.STRING ? dflt : v.asString();
    }

    public long getLong(String key, long dflt) {
        GgufValue v = metadata.get(key);
        return v == null || !(v.value() instanceof Number n) ? dflt : n.longValue();
    }

    public double getDouble(String key, double dflt) {
        GgufValue v = metadata.get(key);
        return v == null || !(v.value() instanceof Number n) ? dflt : n.doubleValue();
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new InvalidInputException("no tensor " + name + " in " + path, "inspect the file with 'jround inspect'");
        }
        return t;
    }

    public boolean hasTensor(String name) {
        return byName.containsKey(name);
    }

    /** The tensor's encoded bytes, memory-mapped (little-endian). */
    public ByteBuffer rawData(GgufTensorInfo t) {
        long size = t.byteSize();
        if (size > Integer.MAX_VALUE) {
            throw new dev.jround.spi.UnsupportedFeatureException("tensor " + t.name() + " of " + path + " is larger than 2 GiB",
                    "jround maps GGUF tensors of up to 2 GiB");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.offset(), size).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + t.name() + " of " + path, e);
        }
    }

    public byte[] rawBytes(GgufTensorInfo t) {
        ByteBuffer b = rawData(t);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    /** The tensor decoded to float32, row-major in PyTorch order. */
    public float[] dequantize(GgufTensorInfo t) {
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new dev.jround.spi.UnsupportedFeatureException("tensor " + t.name() + " of " + path + " has more than 2^31 elements",
                    "jround dequantizes GGUF tensors of up to 2^31 elements");
        }
        float[] out = new float[(int) n];
        GgmlQuants.dequantize(t.type(), rawData(t), 0, out, 0, (int) n);
        return out;
    }

    public float[] dequantize(String name) {
        return dequantize(tensor(name));
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sequential little-endian reader over the file channel with a refilling window. */
    private static final class Cursor {
        private final FileChannel ch;
        private final Path path;
        private final long fileSize;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long bufStart;
        /** What is being read, for the message when the file ends early. */
        String what = "the header";

        Cursor(FileChannel ch, Path path, long fileSize) {
            this.ch = ch;
            this.path = path;
            this.fileSize = fileSize;
            buf.limit(0);
        }

        long position() {
            return bufStart + buf.position();
        }

        private void need(int n) {
            if (buf.remaining() >= n) {
                return;
            }
            long pos = position();
            buf.compact();
            bufStart = pos;
            try {
                while (buf.position() < n) {
                    int r = ch.read(buf, bufStart + buf.position());
                    if (r < 0) {
                        throw new CorruptInputException(path + " is truncated: it ends at byte " + (bufStart + buf.position())
                                + " while reading " + what, "the file is cut short; download or export it again");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            buf.flip();
        }

        int u8() {
            need(1);
            return buf.get() & 0xFF;
        }

        short i16() {
            need(2);
            return buf.getShort();
        }

        int i32() {
            need(4);
            return buf.getInt();
        }

        long i64() {
            need(8);
            return buf.getLong();
        }

        String string() {
            long n = i64();
            long room = fileSize - position();
            if (n < 0 || n > (1 << 26) || n > room) {
                throw new CorruptInputException(path + ": " + what + " has a string of " + Long.toUnsignedString(n) + " bytes at offset "
                        + position() + ", " + (n > room || n < 0 ? "past the end of the " + fileSize + "-byte file (truncated?)" : "over the 64 MiB limit"),
                        "the file is truncated or corrupt");
            }
            byte[] b = new byte[(int) n];
            int off = 0;
            while (off < n) {
                need(1);
                int k = Math.min(buf.remaining(), (int) n - off);
                buf.get(b, off, k);
                off += k;
            }
            return new String(b, StandardCharsets.UTF_8);
        }
    }
}
