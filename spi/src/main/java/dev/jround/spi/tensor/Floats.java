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

    /**
     * float32 to float8 E4M3FN, saturating: values beyond ±448 (infinities included) become ±448, as
     * AutoRound clamps before casting; then round to nearest even. NaN becomes 0x7F with the input's sign.
     */
    public static byte f32ToE4m3(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 24) & 0x80;
        if (Float.isNaN(f)) {
            return (byte) (sign | 0x7F);
        }
        int ax = x & 0x7FFFFFFF;
        if (Float.intBitsToFloat(ax) >= 448f) {
            return (byte) (sign | 0x7E);
        }
        if (ax < (121 << 23)) {
            // below the smallest normal 2^-6: multiples of 2^-9, rounding may reach the smallest normal code 0x08
            return (byte) (sign | (int) Math.rint(Float.intBitsToFloat(ax) * 512.0));
        }
        int code = ((((ax >>> 23) - 127 + 7) << 3) | ((ax >>> 20) & 7));
        int rem = ax & 0xFFFFF;
        if (rem > 0x80000 || (rem == 0x80000 && (code & 1) != 0)) {
            code++;
        }
        return (byte) (sign | code);
    }

    /** Rounds a float32 to the nearest E4M3FN value (saturating at ±448). */
    public static float roundToE4m3(float f) {
        return e4m3ToF32(f32ToE4m3(f));
    }

    /**
     * float32 to float8 E5M2, round to nearest even, overflow to infinity (torch's cast). NaN becomes 0x7F
     * with the input's sign. Rounds once from float32; going through fp16 would round twice.
     */
    public static byte f32ToE5m2(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 24) & 0x80;
        if (Float.isNaN(f)) {
            return (byte) (sign | 0x7F);
        }
        int ax = x & 0x7FFFFFFF;
        int exp = (ax >>> 23) - 127 + 15;
        if (exp >= 31) {
            return (byte) (sign | 0x7C);
        }
        if (exp <= 0) {
            // below the smallest normal 2^-14: multiples of 2^-16
            return (byte) (sign | (int) Math.rint(Float.intBitsToFloat(ax) * 65536.0));
        }
        int code = (exp << 2) | ((ax >>> 21) & 3);
        int rem = ax & 0x1FFFFF;
        if (rem > 0x100000 || (rem == 0x100000 && (code & 1) != 0)) {
            code++;
        }
        return (byte) (sign | Math.min(code, 0x7C));
    }

    /** E8M0 scale byte (MX formats): 2^(b-127); 255 is NaN. */
    public static float e8m0ToF32(byte b) {
        int v = b & 0xFF;
        return v == 255 ? Float.NaN : Math.scalb(1f, v - 127);
    }
}
