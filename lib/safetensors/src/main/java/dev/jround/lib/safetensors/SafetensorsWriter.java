package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
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
import java.util.TreeMap;

/**
 * Streaming safetensors writer. Tensors are appended as they arrive; the data of the open shard goes
 * to a temporary file (not the heap), and when the shard reaches {@code maxShardBytes} it is closed.
 * {@link #finish()} writes each shard as the reference (Rust) writer would lay it out: tensors ordered
 * by decreasing dtype rank, then by name; compact JSON with {@code __metadata__} first and its keys sorted;
 * the header padded with spaces to a multiple of 8. Identical input therefore gives identical bytes.
 * With more than one shard the files are named {@code <prefix>-0000i-of-0000n.safetensors} and
 * {@code <prefix>.safetensors.index.json} is written. Every file is written under a temporary name and
 * renamed, so a crash never leaves a file that looks complete.
 */
public final class SafetensorsWriter implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.INDENT_OUTPUT, false);

    private final Path dir;
    private final String prefix;
    private final long maxShardBytes;
    private final Map<String, String> metadata;
    private final List<Shard> shards = new ArrayList<>();
    private final Set<String> written = new HashSet<>();
    private Shard current;
    private long totalBytes;
    private boolean finished;

    private static final class Shard {
        final Path dataTmp;
        final FileChannel data;
        final Map<String, long[]> offsets = new LinkedHashMap<>();
        final Map<String, TensorInfo> infos = new LinkedHashMap<>();
        long size;

        Shard(Path dataTmp) throws IOException {
            this.dataTmp = dataTmp;
            this.data = FileChannel.open(dataTmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE, StandardOpenOption.READ);
        }
    }

    /**
     * @param dir           target directory (must exist)
     * @param prefix        file name prefix, normally {@code model}
     * @param maxShardBytes shard size limit in bytes ({@code Long.MAX_VALUE} for one file); a tensor larger
     *                      than the limit gets a shard of its own
     * @param metadata      {@code __metadata__} entries (AutoRound writes {@code format: pt}); {@code null}
     *                      means {@code format: pt}, an empty map writes no {@code __metadata__}
     */
    public SafetensorsWriter(Path dir, String prefix, long maxShardBytes, Map<String, String> metadata) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        this.dir = dir;
        this.prefix = prefix;
        this.maxShardBytes = maxShardBytes;
        this.metadata = metadata == null ? Map.of("format", "pt") : new TreeMap<>(metadata);
    }

    public SafetensorsWriter(Path dir) {
        this(dir, "model", 5_000_000_000L, Map.of("format", "pt"));
    }

    /** The index file name for this writer's prefix ({@code model.safetensors.index.json} for {@code model}). */
    public String indexFileName() {
        return prefix + ".safetensors.index.json";
    }

    /** Appends one tensor; opens a new shard first if this one would exceed the limit. */
    public synchronized void add(String name, HostTensor t) {
        if (finished) {
            throw new IllegalStateException("writer already finished");
        }
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved in safetensors headers and cannot name a tensor");
        }
        if (!written.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' written twice");
        }
        long bytes = t.data().remaining();
        try {
            if (current == null || (current.size > 0 && current.size + bytes > maxShardBytes)) {
                current = new Shard(dir.resolve("." + prefix + "-shard" + shards.size() + ".data.tmp"));
                shards.add(current);
            }
            ByteBuffer src = t.data().duplicate();
            long pos = current.size;
            while (src.hasRemaining()) {
                current.data.write(src, pos + (bytes - src.remaining()));
            }
            current.offsets.put(name, new long[]{pos, pos + bytes});
            current.infos.put(name, new TensorInfo(name, t.dtype(), t.shape()));
            current.size += bytes;
            totalBytes += bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tensor " + name + " to " + dir, e);
        }
    }

    /** Writes every shard and the index (if sharded); returns the file names written. */
    public synchronized List<String> finish() {
        if (finished) {
            throw new IllegalStateException("writer already finished");
        }
        finished = true;
        List<String> names = new ArrayList<>();
        try {
            if (shards.isEmpty()) {
                current = new Shard(dir.resolve("." + prefix + "-shard0.data.tmp"));
                shards.add(current);
            }
            int n = shards.size();
            Map<String, String> weightMap = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String fileName = n == 1 ? prefix + ".safetensors"
                        : String.format("%s-%05d-of-%05d.safetensors", prefix, i + 1, n);
                writeShard(shards.get(i), dir.resolve(fileName));
                names.add(fileName);
                for (String t : shards.get(i).infos.keySet()) {
                    weightMap.put(t, fileName);
                }
            }
            Path index = dir.resolve(indexFileName());
            if (n > 1) {
                ObjectNode root = JSON.createObjectNode();
                root.putObject("metadata").put("total_size", totalBytes);
                ObjectNode wm = root.putObject("weight_map");
                weightMap.forEach(wm::put);
                Path tmp = dir.resolve(indexFileName() + ".tmp");
                Files.writeString(tmp, JSON.writer(INDEX_PRINTER).writeValueAsString(root) + "\n");
                Files.move(tmp, index, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                names.add(indexFileName());
            } else {
                // an index left by an earlier sharded export would make readers ignore the new single file
                Files.deleteIfExists(index);
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish safetensors output in " + dir, e);
        } finally {
            close();
        }
    }

    /** Two-space indentation and {@code "key": value}, as Python's json.dump(indent=2) writes indexes. */
    private static final DefaultPrettyPrinter INDEX_PRINTER = new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"));

    /**
     * The reference writer's order of dtypes, lowest first; tensors are laid out highest rank first, which
     * keeps every tensor aligned to its element size.
     */
    static int rank(DType d) {
        return switch (d) {
            case BOOL -> 0;
            case U8 -> 1;
            case I8 -> 2;
            case F8_E5M2 -> 3;
            case F8_E4M3 -> 4;
            case F8_E8M0 -> 5;
            case I16 -> 6;
            case U16 -> 7;
            case F16 -> 8;
            case BF16 -> 9;
            case I32 -> 10;
            case U32 -> 11;
            case F32 -> 12;
            case F64 -> 13;
            case I64 -> 14;
            case U64 -> 15;
        };
    }

    private void writeShard(Shard s, Path target) throws IOException {
        List<TensorInfo> order = new ArrayList<>(s.infos.values());
        order.sort(Comparator.comparingInt((TensorInfo t) -> -rank(t.dtype())).thenComparing(TensorInfo::name));
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (TensorInfo info : order) {
            long[] source = s.offsets.get(info.name());
            long length = source[1] - source[0];
            ObjectNode t = header.putObject(info.name());
            t.put("dtype", info.dtype().name());
            var shape = t.putArray("shape");
            for (long d : info.shape()) {
                shape.add(d);
            }
            var off = t.putArray("data_offsets");
            off.add(offset);
            off.add(offset + length);
            offset += length;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded);
        head.put(json);
        while (head.position() < head.capacity()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (head.hasRemaining()) {
                out.write(head);
            }
            for (TensorInfo info : order) {
                long[] source = s.offsets.get(info.name());
                long pos = source[0];
                while (pos < source[1]) {
                    pos += s.data.transferTo(pos, source[1] - pos, out);
                }
            }
            out.force(false);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Releases temporary files; after a failure nothing that looks like a finished shard remains. */
    @Override
    public synchronized void close() {
        for (Shard s : shards) {
            try {
                s.data.close();
                Files.deleteIfExists(s.dataTmp);
            } catch (IOException ignored) {
                // best effort cleanup of a temporary file
            }
        }
        shards.clear();
        current = null;
        finished = true;
    }

    /** Writes all tensors of a map into {@code dir/model.safetensors} (one shard). */
    public static void writeAll(Path dir, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        SafetensorsWriter w = new SafetensorsWriter(dir, "model", Long.MAX_VALUE, metadata);
        try {
            tensors.forEach(w::add);
            w.finish();
        } finally {
            w.close();
        }
    }
}
