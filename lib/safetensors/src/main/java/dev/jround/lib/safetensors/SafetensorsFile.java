package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
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

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Upper bound for the JSON header; the reference implementation refuses larger headers. */
    static final long MAX_HEADER = 100_000_000L;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, long[]> offsets = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private volatile boolean closed;

    private SafetensorsFile(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < 8) {
                throw corrupt("file is " + size + " bytes, shorter than the 8-byte header length (truncated?)");
            }
            ByteBuffer lenBuf = readFully(0, 8);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER) {
                throw corrupt("header length " + Long.toUnsignedString(headerLen) + " is outside 2.." + MAX_HEADER + " bytes");
            }
            if (8 + headerLen > size) {
                throw corrupt("header length " + headerLen + " runs past the end of the " + size + "-byte file (truncated?)");
            }
            ByteBuffer hb = readFully(8, (int) headerLen);
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(hb).toString();
            } catch (CharacterCodingException e) {
                throw corrupt("header is not valid UTF-8");
            }
            dataStart = 8 + headerLen;
            parseHeader(header, size - dataStart);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private ByteBuffer readFully(long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (channel.read(b, position + b.position()) < 0) {
                throw corrupt("file ends at byte " + (position + b.position()) + " inside the header (truncated?)");
            }
        }
        return b.flip();
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
            String near = lastTensorBefore(header);
            throw corrupt("header is not valid JSON" + (near == null ? "" : " near tensor '" + near + "'")
                    + " (" + e.getMessage().split("\n")[0] + ")");
        }
        if (root == null || !root.isObject()) {
            throw corrupt("header is not a JSON object");
        }
        List<Range> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(v);
                continue;
            }
            if (!v.isObject()) {
                throw corrupt("tensor '" + name + "' is not a JSON object");
            }
            JsonNode dt = v.get("dtype");
            JsonNode sh = v.get("shape");
            JsonNode off = v.get("data_offsets");
            if (dt == null || !dt.isTextual() || sh == null || !sh.isArray() || off == null || !off.isArray() || off.size() != 2) {
                throw corrupt("tensor '" + name + "' lacks a dtype string, a shape array or a two-element data_offsets");
            }
            DType dtype = DType.fromTag(dt.asText(), "of tensor '" + name + "' in " + path);
            long[] shape = new long[sh.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = nonNegativeLong(sh.get(i), name, "shape");
                try {
                    elements = Math.multiplyExact(elements, shape[i]);
                } catch (ArithmeticException overflow) {
                    throw corrupt("tensor '" + name + "' has a shape " + sh + " whose size overflows");
                }
            }
            long begin = nonNegativeLong(off.get(0), name, "data_offsets");
            long end = nonNegativeLong(off.get(1), name, "data_offsets");
            if (end < begin) {
                throw corrupt("tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] that end before they begin");
            }
            if (end > dataLen) {
                throw corrupt("tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] beyond the data area of "
                        + dataLen + " bytes (truncated?)");
            }
            long needed;
            try {
                needed = Math.multiplyExact(elements, dtype.bytes());
            } catch (ArithmeticException overflow) {
                throw corrupt("tensor '" + name + "' has a shape " + sh + " whose size overflows");
            }
            if (end - begin != needed) {
                throw corrupt("tensor '" + name + "' spans " + (end - begin) + " bytes but " + dtype + " " + Arrays.toString(shape)
                        + " needs " + needed);
            }
            infos.put(name, new TensorInfo(name, dtype, shape));
            offsets.put(name, new long[]{begin, end});
            ranges.add(new Range(name, begin, end));
        }
        checkTiling(ranges, dataLen);
    }

    /** The last top-level key the parser read before failing, to point at the broken entry. */
    private static String lastTensorBefore(String header) {
        String last = null;
        try (JsonParser p = JSON.createParser(header)) {
            int depth = 0;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t.isStructStart()) {
                    depth++;
                } else if (t.isStructEnd()) {
                    depth--;
                } else if (t == JsonToken.FIELD_NAME && depth == 1) {
                    last = p.currentName();
                }
            }
        } catch (IOException expected) {
            // the parse fails where the header is broken; `last` is the entry before that point
        }
        return last;
    }

    private record Range(String name, long begin, long end) {
    }

    /** The tensors must cover the data area exactly: no overlap, no gap, nothing after the last one. */
    private void checkTiling(List<Range> ranges, long dataLen) {
        ranges.sort(Comparator.comparingLong(Range::begin).thenComparingLong(Range::end));
        long expected = 0;
        Range previous = null;
        for (Range r : ranges) {
            if (r.begin < expected) {
                throw corrupt("tensors '" + previous.name + "' and '" + r.name + "' overlap (bytes " + r.begin + " to "
                        + Math.min(expected, r.end) + ")");
            }
            if (r.begin > expected) {
                throw corrupt("tensor '" + r.name + "' starts at byte " + r.begin + " but the previous tensor"
                        + (previous == null ? "" : " '" + previous.name + "'") + " ends at " + expected + " (gap in the data area)");
            }
            expected = r.end;
            previous = r;
        }
        if (expected != dataLen) {
            throw corrupt((dataLen - expected) + " bytes follow the last tensor"
                    + (previous == null ? "" : " '" + previous.name + "'") + " (data area " + dataLen + " bytes, tensors end at " + expected + ")");
        }
    }

    private long nonNegativeLong(JsonNode n, String tensor, String field) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw corrupt("tensor '" + tensor + "' has " + field + " entry " + n + " which is not a non-negative integer");
        }
        return n.asLong();
    }

    private void readMetadata(JsonNode v) {
        if (!v.isObject()) {
            throw corrupt("__metadata__ is not a JSON object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw corrupt("__metadata__ value of '" + m.getKey() + "' is not a string");
            }
            metadata.put(m.getKey(), m.getValue().asText());
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
        if (closed) {
            throw new IllegalStateException("safetensors file " + path + " is closed");
        }
        long[] o = offsets.get(name);
        long len = o[1] - o[0];
        if (len > Integer.MAX_VALUE) {
            throw new UnsupportedFeatureException("tensor '" + name + "' of " + path + " is " + len
                    + " bytes; jround maps one tensor into one buffer of at most 2 GiB",
                    "re-shard or split the tensor below 2 GiB");
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
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a read-only channel cannot lose data
        }
    }

}
