package dev.jround.plugin.gguf;

import dev.jround.spi.CorruptInputException;

import java.util.Locale;

/** The ggml tensor element types jround reads and writes, with their GGUF ids and block geometry. */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    public int id() {
        return id;
    }

    /** Elements per block (1 for plain float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    public boolean isKQuant() {
        return blockSize == 256;
    }

    public boolean isFloat() {
        return blockSize == 1;
    }

    /** Bytes of {@code n} elements; {@code n} must be a multiple of the block size. */
    public long bytesFor(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(n + " elements are not a whole number of " + this + " blocks");
        }
        return n / blockSize * typeSize;
    }

    public static GgmlType fromId(int id, String where) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new CorruptInputException("unsupported ggml type id " + id + " " + where,
                "jround reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K tensors");
    }

    /** Parses {@code q4_k}, {@code Q4_K}, {@code bf16} ... */
    public static GgmlType parse(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    public String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
