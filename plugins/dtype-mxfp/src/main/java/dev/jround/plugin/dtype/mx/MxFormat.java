package dev.jround.plugin.dtype.mx;

import dev.jround.spi.quant.FloatElements.ElementFormat;

/**
 * Element formats of the MX data types (docs/algorithms.md): exponent bits, mantissa bits counting sign and
 * implicit bit, the largest element exponent {@code emax} and the largest magnitude.
 */
enum MxFormat {
    FP4_E2M1("mx_fp", 4, 2, 3, 2, 6.0f, ElementFormat.FP4_E2M1),
    FP8_E4M3("mx_fp", 8, 4, 5, 8, 448.0f, ElementFormat.FP8_E4M3),
    INT4("mx_int", 4, 0, 4, 0, 1.75f, ElementFormat.INT4),
    INT8("mx_int", 8, 0, 8, 0, 1.984375f, ElementFormat.INT8);

    final String family;
    final int bits;
    final int ebits;
    final int mbits;
    final int emax;
    final float maxNorm;
    final ElementFormat element;
    /** {@code 2^(mbits-2)}: brings the mantissa bits into the integer part before rounding. */
    final float mantissaScale;
    /** Smallest private element exponent {@code 2 - 2^(ebits-1)} (fp formats only). */
    final float minExp;

    MxFormat(String family, int bits, int ebits, int mbits, int emax, float maxNorm, ElementFormat element) {
        this.family = family;
        this.bits = bits;
        this.ebits = ebits;
        this.mbits = mbits;
        this.emax = emax;
        this.maxNorm = maxNorm;
        this.element = element;
        this.mantissaScale = Math.scalb(1f, mbits - 2);
        this.minExp = ebits == 0 ? 0f : 2f - (float) Math.pow(2, ebits - 1);
    }

    /** The format of a family ({@code mx_fp} or {@code mx_int}) at {@code bits}, or {@code null}. */
    static MxFormat of(String family, int bits) {
        for (MxFormat f : values()) {
            if (f.family.equals(family) && f.bits == bits) {
                return f;
            }
        }
        return null;
    }
}
