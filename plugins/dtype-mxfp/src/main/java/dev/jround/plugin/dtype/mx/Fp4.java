package dev.jround.plugin.dtype.mx;

/** FP4 E2M1 codes: sign bit 3, then the index of the magnitude in {0, 0.5, 1, 1.5, 2, 3, 4, 6}. */
final class Fp4 {

    private static final float[] MAGNITUDES = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    private Fp4() {
    }

    /** The code of the nearest E2M1 value (exact for values the quantizer produced); -0 keeps its sign bit. */
    static int encode(float v) {
        float a = Math.abs(v);
        int best = 0;
        for (int k = 1; k < MAGNITUDES.length; k++) {
            if (Math.abs(MAGNITUDES[k] - a) < Math.abs(MAGNITUDES[best] - a)) {
                best = k;
            }
        }
        boolean negative = Float.floatToRawIntBits(v) < 0;
        return (negative ? 8 : 0) | best;
    }
}
