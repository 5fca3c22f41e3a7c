package dev.jround.plugin.onnx;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model being assembled: nodes, graph inputs and outputs, and initializers. Large initializers stream into
 * a side file as they arrive; {@link #write} then either inlines them (a model under the protobuf limit) or
 * references the side file as ONNX external data. Field numbers are those of onnx.proto (ModelProto, GraphProto,
 * NodeProto, TensorProto ...).
 */
final class OnnxGraph implements AutoCloseable {

    /** TensorProto.DataType values. */
    enum ElemType {
        FLOAT(1, 4), UINT8(2, 1), INT32(6, 4), INT64(7, 8), BOOL(9, 1), FLOAT16(10, 2);

        final int code;
        final int bytes;

        ElemType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }
    }

    /** One dimension of a graph input or output: a fixed size or a symbolic name. */
    record Dim(long value, String param) {
        static Dim of(long v) {
            return new Dim(v, null);
        }

        static Dim of(String p) {
            return new Dim(-1, p);
        }
    }

    private record ValueInfo(String name, ElemType type, Dim[] dims) {
    }

    /** Where an initializer's bytes are: inline, or at {@code offset} of the side file. */
    private record Initializer(String name, ElemType type, long[] dims, byte[] inline, long offset, long length) {
    }

    private final List<byte[]> nodes = new ArrayList<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final Map<String, Initializer> initializers = new LinkedHashMap<>();
    private final Path dataFile;
    private FileChannel data;
    private long dataBytes;
    private int counter;

    /** {@code dataFile}: where large initializers are streamed while the model is built. */
    OnnxGraph(Path dataFile) {
        this.dataFile = dataFile;
    }

    /** Bytes of initializers streamed to the side file so far. */
    long externalBytes() {
        return dataBytes;
    }

    void input(String name, ElemType type, Dim... dims) {
        inputs.add(new ValueInfo(name, type, dims));
    }

    void output(String name, ElemType type, Dim... dims) {
        outputs.add(new ValueInfo(name, type, dims));
    }

    /** A weight-sized initializer: streamed to the side file now. */
    synchronized void weight(String name, ElemType type, long[] dims, ByteBuffer bytes) {
        try {
            if (data == null) {
                data = FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE, StandardOpenOption.READ);
            }
            // ONNX Runtime maps external data; page-aligned offsets let it map each tensor directly
            long offset = (dataBytes + 4095) / 4096 * 4096;
            long len = bytes.remaining();
            long pos = offset;
            while (bytes.hasRemaining()) {
                pos += data.write(bytes, pos);
            }
            dataBytes = offset + len;
            put(new Initializer(name, type, dims, null, offset, len));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + dataFile, e);
        }
    }

    /** A small constant kept inside model.onnx. */
    void constant(String name, ElemType type, long[] dims, byte[] bytes) {
        put(new Initializer(name, type, dims, bytes, -1, bytes.length));
    }

    String constInts(long... values) {
        String name = "const_i64_" + counter++;
        ByteBuffer b = le(values.length * 8);
        for (long v : values) {
            b.putLong(v);
        }
        constant(name, ElemType.INT64, new long[]{values.length}, b.array());
        return name;
    }

    String constScalarInt(long value) {
        String name = "const_i64s_" + counter++;
        constant(name, ElemType.INT64, new long[0], le(8).putLong(value).array());
        return name;
    }

    /** A scalar of the graph's float type. */
    String constScalar(ElemType type, float value) {
        String name = "const_f_" + counter++;
        constant(name, type, new long[0], encodeFloats(type, new float[]{value}));
        return name;
    }

    String constFloats(ElemType type, float[] values) {
        String name = "const_fv_" + counter++;
        constant(name, type, new long[]{values.length}, encodeFloats(type, values));
        return name;
    }

    private void put(Initializer init) {
        if (initializers.putIfAbsent(init.name(), init) != null) {
            throw new IllegalStateException("initializer " + init.name() + " written twice");
        }
    }

    /** Starts a node in the default domain. */
    Node op(String opType) {
        return new Node(opType, "");
    }

    Node op(String opType, String domain) {
        return new Node(opType, domain);
    }

    /** A node being described; {@link #out} adds it to the graph and returns its first output. */
    final class Node {
        private final Proto p = new Proto();
        private final String opType;
        private final String domain;
        private final List<Proto> attrs = new ArrayList<>();
        private final List<String> in = new ArrayList<>();

        private Node(String opType, String domain) {
            this.opType = opType;
            this.domain = domain;
        }

        Node in(String... names) {
            in.addAll(List.of(names));
            return this;
        }

        Node attr(String name, long v) {
            attrs.add(new Proto().string(1, name).varint(20, 2).varint(3, v));
            return this;
        }

        Node attr(String name, float v) {
            attrs.add(new Proto().string(1, name).varint(20, 1).float32(2, v));
            return this;
        }

        Node attr(String name, long[] v) {
            Proto a = new Proto().string(1, name).varint(20, 7);
            for (long x : v) {
                a.varint(8, x);
            }
            attrs.add(a);
            return this;
        }

        /** Adds the node with one fresh output, whose name is returned. */
        String out() {
            return outs(1)[0];
        }

        String[] outs(int n) {
            String[] names = new String[n];
            for (int i = 0; i < n; i++) {
                names[i] = opType.toLowerCase(java.util.Locale.ROOT) + "_" + counter++;
            }
            outNamed(names);
            return names;
        }

        /** Adds the node with the given output names. */
        void outNamed(String... names) {
            for (String s : in) {
                p.string(1, s);
            }
            for (String s : names) {
                p.string(2, s);
            }
            p.string(3, "n" + nodes.size() + "_" + opType);
            p.string(4, opType);
            if (!domain.isEmpty()) {
                p.string(7, domain);
            }
            for (Proto a : attrs) {
                p.message(5, a);
            }
            nodes.add(p.toByteArray());
        }
    }

    /**
     * Writes {@code model.onnx} (and keeps the side file as {@code externalName} when {@code external}), with the
     * opsets, producer and metadata given.
     */
    void write(Path modelFile, boolean external, String externalName, Map<String, Long> opsets, String producer,
               String producerVersion, Map<String, String> metadata) throws IOException {
        Proto graph = new Proto();
        for (byte[] n : nodes) {
            graph.bytes(1, n);
        }
        graph.string(2, "jround_decoder");
        for (Initializer init : initializers.values()) {
            graph.message(5, tensor(init, external, externalName));
        }
        for (ValueInfo v : inputs) {
            graph.message(11, valueInfo(v));
        }
        for (ValueInfo v : outputs) {
            graph.message(12, valueInfo(v));
        }
        Proto model = new Proto().varint(1, 8).string(2, producer).string(3, producerVersion);
        for (Map.Entry<String, Long> e : opsets.entrySet()) {
            Proto os = new Proto();
            if (!e.getKey().isEmpty()) {
                os.string(1, e.getKey());
            }
            model.message(8, os.varint(2, e.getValue()));
        }
        model.message(7, graph);
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            model.message(14, new Proto().string(1, e.getKey()).string(2, e.getValue()));
        }
        try (OutputStream os = Files.newOutputStream(modelFile)) {
            os.write(model.toByteArray());
        }
        if (data != null) {
            data.force(true);
            data.close();
            data = null;
            if (!external) {
                Files.delete(dataFile);
            }
        }
    }

    private Proto tensor(Initializer init, boolean external, String externalName) throws IOException {
        Proto t = new Proto();
        if (init.dims().length > 0) {
            t.packedInts(1, init.dims());
        }
        t.varint(2, init.type().code).string(8, init.name());
        if (init.inline() != null) {
            t.bytes(9, init.inline());
        } else if (external) {
            t.message(13, new Proto().string(1, "location").string(2, externalName));
            t.message(13, new Proto().string(1, "offset").string(2, Long.toString(init.offset())));
            t.message(13, new Proto().string(1, "length").string(2, Long.toString(init.length())));
            t.varint(14, 1);
        } else {
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(init.length()));
            long pos = init.offset();
            while (b.hasRemaining()) {
                int r = data.read(b, pos);
                if (r < 0) {
                    throw new IOException("short read of " + dataFile);
                }
                pos += r;
            }
            t.bytes(9, b.array());
        }
        return t;
    }

    private static Proto valueInfo(ValueInfo v) {
        Proto shape = new Proto();
        for (Dim d : v.dims()) {
            shape.message(1, d.param() != null ? new Proto().string(2, d.param()) : new Proto().varint(1, d.value()));
        }
        Proto tensorType = new Proto().varint(1, v.type().code).message(2, shape);
        return new Proto().string(1, v.name()).message(2, new Proto().message(1, tensorType));
    }

    static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] encodeFloats(ElemType type, float[] values) {
        ByteBuffer b = le(values.length * type.bytes);
        for (float v : values) {
            if (type == ElemType.FLOAT16) {
                b.putShort(dev.jround.spi.tensor.Floats.f32ToF16(v));
            } else {
                b.putFloat(v);
            }
        }
        return b.array();
    }

    /** Stops writing and removes the side file. */
    void discard() {
        close();
        try {
            Files.deleteIfExists(dataFile);
        } catch (IOException ignored) {
            // the kernel removes the whole partial directory anyway
        }
    }

    @Override
    public void close() {
        if (data != null) {
            try {
                data.close();
            } catch (IOException ignored) {
                // nothing left to flush for an abandoned export
            }
            data = null;
        }
    }
}
