package dev.jround.plugin.gguf;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** Human-readable dump of a GGUF file: header, metadata (long arrays truncated) and the tensor table. */
public final class GgufInspector {

    private GgufInspector() {
    }

    public static void print(GgufFile f, PrintWriter out, int maxArrayItems) {
        long fileSize = f.path().toFile().length();
        out.printf("file: %s%n", f.path());
        out.printf("GGUF version %d, alignment %d, %d metadata keys, %d tensors, data at offset %d, %d bytes%n",
                f.version(), f.alignment(), f.metadata().size(), f.tensors().size(), f.dataStart(), fileSize);
        out.println();
        out.println("metadata:");
        int keyWidth = f.metadata().keySet().stream().mapToInt(String::length).max().orElse(10);
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            GgufValue v = e.getValue();
            out.printf("  %-" + keyWidth + "s  %-14s %s%n", e.getKey(), v.typeName(), render(v, maxArrayItems));
        }
        out.println();
        out.println("tensors:");
        int nameWidth = f.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(10);
        out.printf("  %4s  %-" + nameWidth + "s  %-5s  %-16s %12s %12s%n", "#", "name", "type", "ne", "bytes", "offset");
        long total = 0;
        int i = 0;
        for (GgufTensorInfo t : f.tensors()) {
            out.printf("  %4d  %-" + nameWidth + "s  %-5s  %-16s %12d %12d%n", i++, t.name(), t.type(), shape(t.ne()),
                    t.byteSize(), t.offset());
            total += t.byteSize();
        }
        out.printf("%d tensors, %d bytes of tensor data%n", f.tensors().size(), total);
        out.flush();
    }

    private static String shape(long[] ne) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ne.length; i++) {
            b.append(i == 0 ? "" : ", ").append(ne[i]);
        }
        return b.append(']').toString();
    }

    static String render(GgufValue v, int maxItems) {
        if (v.type() != GgufValueType.ARRAY) {
            return scalar(v.value(), 200);
        }
        List<?> items = v.list();
        StringBuilder b = new StringBuilder();
        b.append(items.size()).append(" items [");
        int n = Math.min(items.size(), Math.max(0, maxItems));
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ", ").append(scalar(items.get(i), 40));
        }
        if (items.size() > n) {
            b.append(n == 0 ? "..." : ", ...");
        }
        return b.append(']').toString();
    }

    private static String scalar(Object o, int maxLen) {
        if (o instanceof String s) {
            String esc = s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"");
            if (esc.length() > maxLen) {
                esc = esc.substring(0, maxLen) + "...(" + s.length() + " chars)";
            }
            return "\"" + esc + "\"";
        }
        return String.valueOf(o);
    }
}
