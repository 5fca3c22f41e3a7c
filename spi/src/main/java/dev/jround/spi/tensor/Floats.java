package dev.jround.spi.tensor;

/** Bit-exact conversions between float32 and the narrow float formats (Java 17 has no Float.floatToFloat16). */
public final class Floats {

    private Floats() {
    }

    public static float f16ToF32(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float32 to IEEE binary16, round to nearest even, overflow to infinity. */
    public static short f32ToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int exp = (x >>> 23) & 0xFF;
        int mant = x & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 31) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - e;
            int half = 1 << (shift - 1);
            int rounded = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            if (rem > half || (rem == half && (rounded & 1) != 0)) {
                rounded++;
            }
            return (short) (sign | rounded);
        }
        int rounded = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (rounded & 1) != 0)) {
            rounded++;
        }
        return (short) (sign | rounded);
    }

    /** Rounds a float32 to the nearest fp16-representable float32. */
    public static float roundToF16(float f) {
        return f16ToF32(f32ToF16(f));
    }

    public static float bf16ToF32(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    public static short f32ToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) (((u & 0xFFFF0000) | 0x00400000) >>> 16);
        }
        return (short) ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16);
    }

    public static float roundToBf16(float f) {
        return bf16ToF32(f32ToBf16(f));
    }

    public static float e4m3ToF32(byte b) {
        int v = b & 0xFF;
        int sign = v >>> 7;
        int exp = (v >>> 3) & 0xF;
        int mant = v & 7;
        if (exp == 15 && mant == 7) {
            return Float.NaN;
        }
        float r = exp == 0 ? mant / 8f * 0x1p-6f : (1 + mant / 8f) * (float) Math.pow(2, exp - 7);
        return sign == 1 ? -r : r;
    }

    public static float e5m2ToF32(byte b) {
        return f16ToF32((short) ((b & 0xFF) << 8));
    }
}
