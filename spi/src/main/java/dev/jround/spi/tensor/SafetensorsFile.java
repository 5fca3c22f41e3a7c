package dev.jround.spi.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code .safetensors} file, memory-mapped: tensors are windows of the mapped file, so a
 * checkpoint larger than the heap can be read. The header is validated completely on open.
 */
public final class SafetensorsFile implements TensorStore {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Upper bound for the JSON header (the Rust reference refuses more than 100 MB). */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, long[]> offsets = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private SafetensorsFile(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < 8) {
                throw corrupt("file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw corrupt("header length " + headerLen + " is invalid for a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            channel.read(hb, 8);
            String header = new String(hb.array(), StandardCharsets.UTF_8);
            dataStart = 8 + headerLen;
            parseHeader(header, size - dataStart);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Opens and validates a safetensors file. */
    public static SafetensorsFile open(Path path) {
        try {
            return new SafetensorsFile(path);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("safetensors file not found: " + path, "check the model path");
        } catch (IOException e) {
            throw new CorruptInputException("cannot read " + path + ": " + e.getMessage(), null, e);
        }
    }

    private CorruptInputException corrupt(String what) {
        return new CorruptInputException("corrupt safetensors file " + path + ": " + what,
                "re-download or re-export the file; a valid file is an 8-byte little-endian header length, a JSON header, then the data");
    }

    private void parseHeader(String header, long dataLen) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (IOException e) {
            throw corrupt("header is not valid JSON (" + e.getMessage().split("\n")[0] + ")");
        }
        if (root == null || !root.isObject()) {
            throw corrupt("header is not a JSON object");
        }
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode dt = v.get("dtype");
            JsonNode sh = v.get("shape");
            JsonNode off = v.get("data_offsets");
            if (dt == null || sh == null || off == null || !sh.isArray() || !off.isArray() || off.size() != 2) {
                throw corrupt("tensor '" + name + "' lacks dtype, shape or a two-element data_offsets");
            }
            DType dtype = DType.fromTag(dt.asText(), "for tensor '" + name + "' in " + path);
            long[] shape = new long[sh.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = sh.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw corrupt("tensor '" + name + "' has a negative dimension");
                }
            }
            long begin = off.get(0).asLong(-1);
            long end = off.get(1).asLong(-1);
            TensorInfo info = new TensorInfo(name, dtype, shape);
            if (begin < 0 || end < begin || end > dataLen) {
                throw corrupt("tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] outside the data area of " + dataLen + " bytes");
            }
            if (end - begin != info.byteSize()) {
                throw corrupt("tensor '" + name + "' spans " + (end - begin) + " bytes but " + dtype + " " + java.util.Arrays.toString(shape) + " needs " + info.byteSize());
            }
            infos.put(name, info);
            offsets.put(name, new long[]{begin, end});
            ranges.add(new long[]{begin, end, ranges.size()});
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        String[] names = infos.keySet().toArray(new String[0]);
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                throw corrupt("tensors '" + names[(int) ranges.get(i - 1)[2]] + "' and '" + names[(int) ranges.get(i)[2]] + "' overlap");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    @Override
    public Collection<String> names() {
        return Collections.unmodifiableSet(infos.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(infos.get(name));
    }

    @Override
    public HostTensor get(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new InvalidInputException("tensor '" + name + "' not found in " + path, "the file has " + infos.size() + " tensors");
        }
        long[] o = offsets.get(name);
        long len = o[1] - o[0];
        if (len > Integer.MAX_VALUE) {
            throw new CorruptInputException("tensor '" + name + "' is larger than 2 GiB, which one mapping window cannot hold", null);
        }
        try {
            ByteBuffer buf = len == 0 ? ByteBuffer.allocate(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, dataStart + o[0], len);
            return new HostTensor(info.dtype(), info.shape(), buf.order(ByteOrder.LITTLE_ENDIAN));
        } catch (IOException e) {
            throw new CorruptInputException("cannot map tensor '" + name + "' of " + path + ": " + e.getMessage(), null, e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a read-only channel cannot lose data
        }
    }

    /** True if the path names an existing regular file. */
    static boolean exists(Path p) {
        return Files.isRegularFile(p);
    }
}
