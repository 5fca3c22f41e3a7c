package dev.jround.plugin.gguf;

/**
 * A tensor's entry in a GGUF file. {@code ne[0]} is the innermost (contiguous) dimension: the reverse of
 * the PyTorch shape. {@code offset} is relative to the start of the data section.
 */
public record GgufTensorInfo(String name, long[] ne, GgmlType type, long offset) {

    public long elements() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return type.bytesFor(elements());
    }

    /** Rows of the 2-D view {@code [elements/ne0, ne0]}. */
    public long rows() {
        return elements() / ne[0];
    }

    /** The PyTorch-order shape (reverse of {@code ne}). */
    public long[] torchShape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }
}
