package dev.jround.plugin.gguf;

import java.util.List;

/**
 * One typed metadata value. Scalars are boxed Java values ({@code Long} for every integer type,
 * {@code Float}/{@code Double}, {@code Boolean}, {@code String}); an array is a {@code List} of such
 * values with {@link #elementType()} naming their type.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue string(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue uint32(long v) {
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue int32(long v) {
        return new GgufValue(GgufValueType.INT32, null, v);
    }

    public static GgufValue float32(double v) {
        return new GgufValue(GgufValueType.FLOAT32, null, (float) v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    public List<?> list() {
        return (List<?>) value;
    }

    public long asLong() {
        return ((Number) value).longValue();
    }

    public String asString() {
        return (String) value;
    }

    /** Type name as the gguf Python package prints it, e.g. {@code ARRAY[INT32]}. */
    public String typeName() {
        return type == GgufValueType.ARRAY ? "ARRAY[" + elementType + "]" : type.name();
    }
}
