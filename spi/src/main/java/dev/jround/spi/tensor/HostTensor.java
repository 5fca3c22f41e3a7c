package dev.jround.spi.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tensor in host memory as raw little-endian bytes of its dtype. Engine-free, so exporters and
 * readers need no native library. The buffer may be a window of a memory-mapped file.
 */
public record HostTensor(DType dtype, long[] shape, ByteBuffer data) {

    public HostTensor {
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if ((long) data.remaining() != n * dtype.bytes()) {
            throw new IllegalArgumentException("tensor data has " + data.remaining() + " bytes, shape needs " + n * dtype.bytes());
        }
    }

    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /** Converts every element to float32 (integers are converted by value). */
    public float[] toFloats() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(p + 8 * i); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Floats.f16ToF32(b.getShort(p + 2 * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Floats.bf16ToF32(b.getShort(p + 2 * i)); }
            case F8_E4M3 -> { for (int i = 0; i < n; i++) out[i] = Floats.e4m3ToF32(b.get(p + i)); }
            case F8_E5M2 -> { for (int i = 0; i < n; i++) out[i] = Floats.e5m2ToF32(b.get(p + i)); }
            case I64 -> { for (int i = 0; i < n; i++) out[i] = b.getLong(p + 8 * i); }
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(p + 4 * i); }
            case U32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(p + 4 * i) & 0xFFFFFFFFL; }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(p + 2 * i); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(p + i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(p + i) & 0xFF; }
            case U16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(p + 2 * i) & 0xFFFF; }
            case U64 -> { for (int i = 0; i < n; i++) out[i] = unsignedToFloat(b.getLong(p + 8 * i)); }
            case F8_E8M0 -> { for (int i = 0; i < n; i++) out[i] = Floats.e8m0ToF32(b.get(p + i)); }
        }
        return out;
    }

    private static float unsignedToFloat(long v) {
        return v >= 0 ? v : (float) ((v >>> 1) | (v & 1)) * 2f;
    }

    /** Elements as int32 (for I32/U32 packed weights, I8/U8/I16 codes). */
    public int[] toInts() {
        int n = Math.toIntExact(numel());
        int[] out = new int[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        switch (dtype) {
            case I32, U32 -> b.asIntBuffer().get(out);
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(p + 2 * i); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(p + i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(p + i) & 0xFF; }
            case U16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(p + 2 * i) & 0xFFFF; }
            case I64, U64 -> { for (int i = 0; i < n; i++) out[i] = Math.toIntExact(b.getLong(p + 8 * i)); }
            default -> throw new IllegalStateException("toInts on floating tensor " + dtype);
        }
        return out;
    }

    public static HostTensor ofFloats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new HostTensor(DType.F32, shape, b);
    }

    /**
     * Encodes float values into F32, F64, F16, BF16, F8_E5M2 (round to nearest even) or F8_E4M3 (round to
     * nearest even, saturating at ±448).
     */
    public static HostTensor ofFloats(float[] values, DType dtype, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(values);
            case F16 -> { for (int i = 0; i < values.length; i++) b.putShort(2 * i, Floats.f32ToF16(values[i])); }
            case BF16 -> { for (int i = 0; i < values.length; i++) b.putShort(2 * i, Floats.f32ToBf16(values[i])); }
            case F64 -> { for (int i = 0; i < values.length; i++) b.putDouble(8 * i, values[i]); }
            case F8_E4M3 -> { for (int i = 0; i < values.length; i++) b.put(i, Floats.f32ToE4m3(values[i])); }
            case F8_E5M2 -> { for (int i = 0; i < values.length; i++) b.put(i, Floats.f32ToE5m2(values[i])); }
            default -> throw new IllegalArgumentException("ofFloats cannot encode " + dtype);
        }
        return new HostTensor(dtype, shape, b);
    }

    public static HostTensor ofInts(int[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        return new HostTensor(DType.I32, shape, b);
    }
}
