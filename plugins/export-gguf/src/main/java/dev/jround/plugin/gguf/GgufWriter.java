package dev.jround.plugin.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one GGUF v3 file. Tensor data is streamed to a scratch file as it arrives (bounded memory); at
 * {@link #finish} the header, metadata and tensor infos are written, the data is copied behind them in the
 * final tensor order, and the file is moved into place atomically, so a half-written file never carries
 * the target name.
 */
public final class GgufWriter implements AutoCloseable {

    public static final int MAGIC = 0x46554747;
    public static final int VERSION = 3;
    public static final int ALIGNMENT = 32;

    private final Path target;
    private final Path scratch;
    private final FileChannel scratchChannel;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private boolean done;

    private record Pending(String name, long[] ne, GgmlType type, long scratchOffset, long size) {
    }

    public GgufWriter(Path target) {
        this.target = target;
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            this.scratch = Files.createTempFile(dir, ".gguf-data-", ".tmp");
            this.scratchChannel = FileChannel.open(scratch, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create scratch file next to " + target, e);
        }
    }

    /** Adds or replaces a metadata entry; entries are written in insertion order. */
    public GgufWriter put(String key, GgufValue value) {
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty GGUF key");
        }
        metadata.put(key, value);
        return this;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Appends one tensor's encoded bytes ({@code ne} in GGUF order, innermost first). */
    public synchronized void addTensor(String name, long[] ne, GgmlType type, byte[] data) {
        if (name.getBytes(StandardCharsets.UTF_8).length >= 64) {
            throw new IllegalArgumentException("GGUF tensor name longer than 63 bytes: " + name);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate GGUF tensor " + name);
        }
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (ne[0] % type.blockSize() != 0 || type.bytesFor(n) != data.length) {
            throw new IllegalArgumentException("tensor " + name + " of type " + type + " and ne0 " + ne[0]
                    + " has " + data.length + " bytes");
        }
        try {
            long off = scratchChannel.size();
            ByteBuffer b = ByteBuffer.wrap(data);
            long pos = off;
            while (b.hasRemaining()) {
                pos += scratchChannel.write(b, pos);
            }
            tensors.add(new Pending(name, ne.clone(), type, off, data.length));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tensor data to " + scratch, e);
        }
    }

    /** Tensor names added so far, in arrival order. */
    public List<String> tensorNames() {
        return tensors.stream().map(Pending::name).toList();
    }

    /** Writes the file with tensors in arrival order. */
    public void finish() {
        finish(null);
    }

    /** Writes the file with tensors sorted by {@code order} (arrival order when {@code null}). */
    public synchronized void finish(Comparator<String> order) {
        List<Pending> sorted = new ArrayList<>(tensors);
        if (order != null) {
            sorted.sort(Comparator.comparing(Pending::name, order));
        }
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        try (FileChannel outCh = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            OutputStream raw = java.nio.channels.Channels.newOutputStream(outCh);
            BufferedOutputStream bos = new BufferedOutputStream(raw, 1 << 16);
            LeOut out = new LeOut(bos);
            out.u32(MAGIC);
            out.u32(VERSION);
            out.u64(sorted.size());
            out.u64(metadata.size());
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                out.string(e.getKey());
                writeValue(out, e.getValue());
            }
            long offset = 0;
            for (Pending t : sorted) {
                out.string(t.name);
                out.u32(t.ne.length);
                for (long d : t.ne) {
                    out.u64(d);
                }
                out.u32(t.type.id());
                out.u64(offset);
                offset += padded(t.size);
            }
            out.pad();
            bos.flush();
            for (Pending t : sorted) {
                long pos = t.scratchOffset;
                long end = t.scratchOffset + t.size;
                while (pos < end) {
                    pos += scratchChannel.transferTo(pos, end - pos, outCh);
                }
                int pad = (int) (padded(t.size) - t.size);
                if (pad > 0) {
                    outCh.write(ByteBuffer.allocate(pad));
                }
            }
            outCh.force(true);
        } catch (IOException e) {
            abort();
            quietDelete(partial);
            throw new UncheckedIOException("cannot write " + target, e);
        }
        try {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            quietDelete(partial);
            throw new UncheckedIOException("cannot move " + partial + " to " + target, e);
        } finally {
            close();
        }
        done = true;
    }

    static long padded(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Drops the scratch data; nothing is left at the target path. */
    public void abort() {
        close();
    }

    @Override
    public void close() {
        try {
            scratchChannel.close();
        } catch (IOException ignored) {
            // closing a scratch file we are about to delete
        }
        quietDelete(scratch);
    }

    public boolean finished() {
        return done;
    }

    private static void quietDelete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover temp file carries no target name
        }
    }

    private static void writeValue(LeOut out, GgufValue v) throws IOException {
        out.u32(v.type().id());
        if (v.type() == GgufValueType.ARRAY) {
            out.u32(v.elementType().id());
            out.u64(v.list().size());
            for (Object o : v.list()) {
                writeScalar(out, v.elementType(), o);
            }
        } else {
            writeScalar(out, v.type(), v.value());
        }
    }

    private static void writeScalar(LeOut out, GgufValueType t, Object o) throws IOException {
        switch (t) {
            case UINT8, INT8 -> out.u8((int) ((Number) o).longValue());
            case UINT16, INT16 -> out.u16((int) ((Number) o).longValue());
            case UINT32, INT32 -> out.u32((int) ((Number) o).longValue());
            case UINT64, INT64 -> out.u64(((Number) o).longValue());
            case FLOAT32 -> out.u32(Float.floatToRawIntBits(((Number) o).floatValue()));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits(((Number) o).doubleValue()));
            case BOOL -> out.u8((Boolean) o ? 1 : 0);
            case STRING -> out.string((String) o);
            case ARRAY -> throw new IllegalArgumentException("nested GGUF arrays are not allowed");
        }
    }

    /** Little-endian primitive output that tracks its position for alignment padding. */
    private static final class LeOut {
        private final OutputStream os;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long pos;

        LeOut(OutputStream os) {
            this.os = os;
        }

        void u8(int v) throws IOException {
            os.write(v);
            pos++;
        }

        void u16(int v) throws IOException {
            scratch.clear();
            scratch.putShort((short) v);
            os.write(scratch.array(), 0, 2);
            pos += 2;
        }

        void u32(int v) throws IOException {
            scratch.clear();
            scratch.putInt(v);
            os.write(scratch.array(), 0, 4);
            pos += 4;
        }

        void u64(long v) throws IOException {
            scratch.clear();
            scratch.putLong(v);
            os.write(scratch.array(), 0, 8);
            pos += 8;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            os.write(b);
            pos += b.length;
        }

        void pad() throws IOException {
            long p = padded(pos) - pos;
            for (long i = 0; i < p; i++) {
                u8(0);
            }
        }
    }
}
