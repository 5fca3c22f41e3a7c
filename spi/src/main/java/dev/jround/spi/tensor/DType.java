package dev.jround.spi.tensor;

import dev.jround.spi.CorruptInputException;

/** Element types of safetensors (and of jround's host tensors), with their byte width. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), F8_E4M3(1), F8_E5M2(1), I64(8), I32(4), I16(2), I8(1), U8(1), U32(4), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16 || this == F8_E4M3 || this == F8_E5M2;
    }

    /** Parses a safetensors dtype tag, failing with a message that lists the valid tags. */
    public static DType fromTag(String tag, String where) {
        for (DType d : values()) {
            if (d.name().equals(tag)) {
                return d;
            }
        }
        throw new CorruptInputException("unknown dtype '" + tag + "' " + where,
                "valid dtypes: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8, U32, BOOL");
    }
}
