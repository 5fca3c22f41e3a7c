package dev.jround.spi.tensor;

import dev.jround.spi.CorruptInputException;
import dev.jround.spi.UnsupportedFeatureException;

import java.util.Set;

/** Element types of safetensors (and of jround's host tensors), with their byte width. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), F8_E4M3(1), F8_E5M2(1), I64(8), I32(4), I16(2), I8(1), U8(1), U32(4), BOOL(1),
    U16(2), U64(8),
    /** Power-of-two scale byte of the MX formats: value 2^(b-127), 255 = NaN. */
    F8_E8M0(1);

    /** Tags that safetensors defines but jround cannot hold as whole-byte elements of a real dtype. */
    private static final Set<String> KNOWN_UNSUPPORTED =
            Set.of("C64", "F4", "F6_E2M3", "F6_E3M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ");

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16 || this == F8_E4M3 || this == F8_E5M2
                || this == F8_E8M0;
    }

    /**
     * Parses a safetensors dtype tag. A tag safetensors does not define is corruption; a tag it defines
     * but jround does not implement (complex, sub-byte floats, the FNUZ variants) is an unsupported feature.
     */
    public static DType fromTag(String tag, String where) {
        for (DType d : values()) {
            if (d.name().equals(tag)) {
                return d;
            }
        }
        if (KNOWN_UNSUPPORTED.contains(tag)) {
            throw new UnsupportedFeatureException("dtype '" + tag + "' " + where + " is not supported by jround",
                    "supported dtypes: " + validTags());
        }
        throw new CorruptInputException("unknown dtype '" + tag + "' " + where, "valid dtypes: " + validTags());
    }

    private static String validTags() {
        StringBuilder sb = new StringBuilder();
        for (DType d : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(d.name());
        }
        return sb.toString();
    }
}
