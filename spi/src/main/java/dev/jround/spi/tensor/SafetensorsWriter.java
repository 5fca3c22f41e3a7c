package dev.jround.spi.tensor;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Streaming safetensors writer. Tensors are appended as they arrive; the data of the open shard goes
 * to a temporary file (not the heap), and when the shard reaches {@code maxShardBytes} it is closed:
 * the header is written, then the data is copied behind it. With more than one shard the files are
 * named {@code <prefix>-0000i-of-0000n.safetensors} and an index is written. Every file is written
 * under a temporary name and renamed, so a crash never leaves a file that looks complete.
 * Header keys are sorted (as the Rust reference writer does), so identical input gives identical bytes.
 */
public final class SafetensorsWriter implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.INDENT_OUTPUT, false);

    private final Path dir;
    private final String prefix;
    private final long maxShardBytes;
    private final Map<String, String> metadata;
    private final List<Shard> shards = new ArrayList<>();
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
     * @param maxShardBytes shard size limit in bytes ({@code Long.MAX_VALUE} for one file)
     * @param metadata      {@code __metadata__} entries (AutoRound writes {@code format: pt})
     */
    public SafetensorsWriter(Path dir, String prefix, long maxShardBytes, Map<String, String> metadata) {
        this.dir = dir;
        this.prefix = prefix;
        this.maxShardBytes = maxShardBytes;
        this.metadata = metadata == null ? Map.of("format", "pt") : new TreeMap<>(metadata);
    }

    public SafetensorsWriter(Path dir) {
        this(dir, "model", 5_000_000_000L, Map.of("format", "pt"));
    }

    /** Appends one tensor; opens a new shard first if this one would exceed the limit. */
    public synchronized void add(String name, HostTensor t) {
        if (finished) {
            throw new IllegalStateException("writer already finished");
        }
        long bytes = t.data().remaining();
        try {
            if (current == null || (current.size > 0 && current.size + bytes > maxShardBytes)) {
                if (current != null) {
                    current.data.force(false);
                }
                current = new Shard(dir.resolve("." + prefix + "-shard" + shards.size() + ".data.tmp"));
                shards.add(current);
            }
            for (Shard s : shards) {
                if (s.infos.containsKey(name)) {
                    throw new IllegalArgumentException("tensor '" + name + "' written twice");
                }
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
            if (n > 1) {
                ObjectNode root = JSON.createObjectNode();
                root.putObject("metadata").put("total_size", totalBytes);
                ObjectNode wm = root.putObject("weight_map");
                weightMap.forEach(wm::put);
                Path tmp = dir.resolve(SafetensorsCheckpoint.INDEX + ".tmp");
                Files.writeString(tmp, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(root));
                Files.move(tmp, dir.resolve(SafetensorsCheckpoint.INDEX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                names.add(SafetensorsCheckpoint.INDEX);
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish safetensors output in " + dir, e);
        } finally {
            close();
        }
    }

    private void writeShard(Shard s, Path target) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        // Sorted names, offsets in arrival order: deterministic for deterministic input.
        new TreeMap<>(s.infos).forEach((name, info) -> {
            ObjectNode t = header.putObject(name);
            t.put("dtype", info.dtype().name());
            var shape = t.putArray("shape");
            for (long d : info.shape()) {
                shape.add(d);
            }
            var off = t.putArray("data_offsets");
            off.add(s.offsets.get(name)[0]);
            off.add(s.offsets.get(name)[1]);
        });
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
            long pos = 0;
            while (pos < s.size) {
                pos += s.data.transferTo(pos, s.size - pos, out);
            }
            out.force(false);
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
        tensors.forEach(w::add);
        w.finish();
    }
}
