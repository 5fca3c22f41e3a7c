package dev.jround.it.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The nodes of an ONNX file (op type, domain, inputs), read straight from its protobuf (ModelProto.graph.node). */
record OnnxNodes(List<Node> nodes) {

    record Node(String opType, String domain, List<String> inputs) {
    }

    static OnnxNodes read(Path model) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(model));
        List<Node> out = new ArrayList<>();
        for (ByteBuffer graph : fields(b, 7)) {
            for (ByteBuffer node : fields(graph, 1)) {
                List<String> in = new ArrayList<>();
                String op = "";
                String domain = "";
                ByteBuffer n = node.duplicate();
                while (n.hasRemaining()) {
                    long tag = varint(n);
                    int field = (int) (tag >>> 3);
                    int wire = (int) (tag & 7);
                    if (wire == 2) {
                        byte[] v = new byte[(int) varint(n)];
                        n.get(v);
                        String s = new String(v, StandardCharsets.UTF_8);
                        switch (field) {
                            case 1 -> in.add(s);
                            case 4 -> op = s;
                            case 7 -> domain = s;
                            default -> {
                            }
                        }
                    } else {
                        skip(n, wire);
                    }
                }
                out.add(new Node(op, domain, in));
            }
        }
        return new OnnxNodes(out);
    }

    List<Node> ofType(String opType) {
        return nodes.stream().filter(n -> n.opType().equals(opType)).toList();
    }

    private static List<ByteBuffer> fields(ByteBuffer msg, int wanted) {
        List<ByteBuffer> out = new ArrayList<>();
        ByteBuffer b = msg.duplicate();
        while (b.hasRemaining()) {
            long tag = varint(b);
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (wire == 2) {
                int len = (int) varint(b);
                if (field == wanted) {
                    out.add(b.slice(b.position(), len));
                }
                b.position(b.position() + len);
            } else {
                skip(b, wire);
            }
        }
        return out;
    }

    private static void skip(ByteBuffer b, int wire) {
        switch (wire) {
            case 0 -> varint(b);
            case 1 -> b.position(b.position() + 8);
            case 5 -> b.position(b.position() + 4);
            default -> throw new IllegalStateException("wire type " + wire);
        }
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            int x = b.get() & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
    }
}
