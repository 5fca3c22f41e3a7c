package dev.jround.plugin.dtype.mx;

/**
 * Scalar float32 operations as the reference's tensor code evaluates them (docs/algorithms.md), so that the host
 * quantizer reproduces its values bit for bit, straight-through forms included: {@code (floor(x) - x) + x} is not
 * always exactly {@code floor(x)} and the reference keeps what it gives.
 */
final class MxMath {

    private MxMath() {
    }

    /** log2 rounded once to float32 (a correctly rounded float log2, as libm's and SLEEF's are here). */
    static float log2(float x) {
        if (x == 0f) {
            return Float.NEGATIVE_INFINITY;
        }
        int exact = Math.getExponent(x);
        if (x == Math.scalb(1f, exact)) {
            return exact;
        }
        return (float) (Math.log(x) / Math.log(2.0));
    }

    static float floorSte(float x) {
        float f = (float) Math.floor(x);
        return (f - x) + x;
    }

    static float ceilSte(float x) {
        float c = (float) Math.ceil(x);
        return (c - x) + x;
    }

    /** {@code 2^e} in float32: exact for integer exponents, else rounded once. */
    static float pow2(float e) {
        if (e == Math.rint(e) && Math.abs(e) < 200) {
            return Math.scalb(1f, (int) e);
        }
        return (float) Math.pow(2.0, e);
    }

    /** torch.sign: +0 for both zeros. */
    static float sign(float x) {
        return x > 0f ? 1f : (x < 0f ? -1f : 0f);
    }

    static float clamp(float x, float lo, float hi) {
        return x < lo ? lo : (x > hi ? hi : x);
    }
}
