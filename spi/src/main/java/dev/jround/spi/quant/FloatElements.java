package dev.jround.spi.quant;

/**
 * Low-precision elements with shared scales (MXFP4/MXFP8/MXINT4, NVFP4, FP8) of a {@code [rows, cols]} weight.
 * A scale covers a block of {@code blockRows x blockCols} elements: 1-D groups along a row have
 * {@code blockRows == 1}; per channel is {@code 1 x cols}, per tensor {@code rows x cols}, block-wise FP8 e.g.
 * {@code 128 x 128}. Edge blocks may be partial (the weight is padded with zeros, the padding is not stored).
 * The value of an element is {@code format.decode(code) * scale / globalScale} (docs/formats.md).
 *
 * @param format      the element format
 * @param rows        weight rows (output features)
 * @param cols        weight columns (input features)
 * @param elements    {@code rows*cols} codes, row-major, packed little-endian at {@code format.bits()} bits each,
 *                    low bits first
 * @param scaleFormat how the shared scales are stored
 * @param blockRows   rows covered by one scale
 * @param blockCols   columns covered by one scale
 * @param scales      {@code scaleRows() * scaleCols()} scales, row-major over the block grid, decoded to float32
 *                    (each exactly representable in {@code scaleFormat})
 * @param globalScale per-tensor divisor of the scales (NVFP4's global scale), {@code 1} for formats without one
 */
public record FloatElements(ElementFormat format, int rows, int cols, byte[] elements, ScaleFormat scaleFormat,
                            int blockRows, int blockCols, float[] scales, float globalScale) implements Payload {

    /** Element formats. The integer ones are two's complement with an implied scale {@code 2^-(bits-2)} (MXINT). */
    public enum ElementFormat {
        FP4_E2M1(4), FP8_E4M3(8), FP8_E5M2(8), INT4(4), INT8(8);

        private final int bits;

        ElementFormat(int bits) {
            this.bits = bits;
        }

        public int bits() {
            return bits;
        }

        /** The value of a code of this format (E4M3 has no infinities; its NaN codes decode to NaN). */
        public float decode(int code) {
            return switch (this) {
                case FP4_E2M1 -> minifloat(code, 2, 1, 1);
                case FP8_E4M3 -> (code & 0x7F) == 0x7F ? Float.NaN : minifloat(code, 4, 3, 7);
                case FP8_E5M2 -> ((code >>> 2) & 0x1F) == 0x1F
                        ? ((code & 3) == 0 ? ((code & 0x80) != 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY) : Float.NaN)
                        : minifloat(code, 5, 2, 15);
                case INT4, INT8 -> {
                    int signed = (code << (32 - bits)) >> (32 - bits);
                    yield Math.scalb((float) signed, -(bits - 2));
                }
            };
        }

        private float minifloat(int code, int ebits, int mbits, int bias) {
            int sign = (code >>> (ebits + mbits)) & 1;
            int e = (code >>> mbits) & ((1 << ebits) - 1);
            int m = code & ((1 << mbits) - 1);
            float mag = e == 0 ? Math.scalb((float) m, 1 - bias - mbits) : Math.scalb((float) ((1 << mbits) | m), e - bias - mbits);
            return sign != 0 ? -mag : mag;
        }
    }

    /** Scale storage: E8M0 (a power of two, OCP MX), FP8 E4M3 (NVFP4) or float32 (FP8 weights). */
    public enum ScaleFormat { E8M0, FP8_E4M3, FP32 }

    public FloatElements {
        if (format == null || scaleFormat == null || elements == null || scales == null) {
            throw new IllegalArgumentException("float elements need a format, a scale format, elements and scales");
        }
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("shape " + rows + "x" + cols + " is negative");
        }
        if (blockRows <= 0 || blockCols <= 0) {
            throw new IllegalArgumentException("block " + blockRows + "x" + blockCols + " must be positive");
        }
        long count = (long) rows * cols;
        long bytes = (count * format.bits() + 7) / 8;
        if (elements.length != bytes) {
            throw new IllegalArgumentException(count + " " + format + " elements take " + bytes + " bytes, not " + elements.length);
        }
        long expectedScales = (long) ceilDiv(rows, blockRows) * ceilDiv(cols, blockCols);
        if (scales.length != expectedScales) {
            throw new IllegalArgumentException(rows + "x" + cols + " in blocks of " + blockRows + "x" + blockCols + " need "
                    + expectedScales + " scales, not " + scales.length);
        }
        if (!(globalScale > 0f) || Float.isInfinite(globalScale)) {
            throw new IllegalArgumentException("global scale " + globalScale + " must be positive and finite");
        }
    }

    /** Element count, {@code rows*cols}. */
    public int count() {
        return rows * cols;
    }

    /** Rows of the scale grid. */
    public int scaleRows() {
        return ceilDiv(rows, blockRows);
    }

    /** Columns of the scale grid. */
    public int scaleCols() {
        return ceilDiv(cols, blockCols);
    }

    /** The raw bits of element {@code i} (row-major). */
    public int element(int i) {
        if (i < 0 || i >= count()) {
            throw new IndexOutOfBoundsException(i);
        }
        long bit = (long) i * format.bits();
        int b = elements[(int) (bit >>> 3)] & 0xFF;
        return format.bits() == 8 ? b : (b >>> (int) (bit & 7)) & ((1 << format.bits()) - 1);
    }

    /** The scale shared by element {@code (row, col)}. */
    public float scaleOf(int row, int col) {
        return scales[(row / blockRows) * scaleCols() + col / blockCols];
    }

    /** The value element {@code (row, col)} stands for: {@code decode(code) * scale / globalScale}. */
    public float value(int row, int col) {
        return format.decode(element(row * cols + col)) * scaleOf(row, col) / globalScale;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
