package dev.jround.spi.quant;

/**
 * Low-precision floating-point elements with shared scales (MXFP4, NVFP4, FP8). Nothing produces it yet; it is
 * defined in SPI 1.0 so that those formats arrive without another payload change.
 *
 * @param format      the element format
 * @param count       number of elements ({@code rows*cols})
 * @param elements    the elements packed little-endian at {@code format.bits()} bits each, low bits first
 * @param scaleFormat how the shared scales are stored
 * @param groupSize   elements per shared scale; divides {@code count}
 * @param scales      {@code count / groupSize} scales, decoded to float32 (already representable in {@code scaleFormat})
 */
public record FloatElements(ElementFormat format, int count, byte[] elements, ScaleFormat scaleFormat, int groupSize,
                            float[] scales) implements Payload {

    public enum ElementFormat {
        FP4_E2M1(4), FP8_E4M3(8), FP8_E5M2(8);

        private final int bits;

        ElementFormat(int bits) {
            this.bits = bits;
        }

        public int bits() {
            return bits;
        }
    }

    public enum ScaleFormat { E8M0, FP8_E4M3, FP32 }

    public FloatElements {
        if (format == null || scaleFormat == null || elements == null || scales == null) {
            throw new IllegalArgumentException("float elements need a format, a scale format, elements and scales");
        }
        if (count < 0 || groupSize <= 0 || count % groupSize != 0) {
            throw new IllegalArgumentException("group size " + groupSize + " must divide the element count " + count);
        }
        long bytes = ((long) count * format.bits() + 7) / 8;
        if (elements.length != bytes) {
            throw new IllegalArgumentException(count + " " + format + " elements take " + bytes + " bytes, not " + elements.length);
        }
        if (scales.length != count / groupSize) {
            throw new IllegalArgumentException(count + " elements in groups of " + groupSize + " need " + count / groupSize
                    + " scales, not " + scales.length);
        }
    }

    /** The raw bits of element {@code i}. */
    public int element(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        long bit = (long) i * format.bits();
        int b = elements[(int) (bit >>> 3)] & 0xFF;
        return format.bits() == 8 ? b : (b >>> (int) (bit & 7)) & ((1 << format.bits()) - 1);
    }

    /** The scale shared by element {@code i}. */
    public float scaleOf(int i) {
        return scales[i / groupSize];
    }
}
