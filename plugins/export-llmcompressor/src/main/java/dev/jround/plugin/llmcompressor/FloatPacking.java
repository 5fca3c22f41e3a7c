package dev.jround.plugin.llmcompressor;

import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.FloatElements.ElementFormat;
import dev.jround.spi.quant.FloatElements.ScaleFormat;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The float formats of compressed-tensors, written from a {@link FloatElements} payload (docs/formats.md,
 * llm_compressor): FP4 codes two per byte (even column in the low nibble, the payload's own packing), FP8 codes one per
 * byte, MX scales as E8M0 exponent bytes, NVFP4 scales as E4M3 with the per-tensor global scale, FP8 scales in float32.
 */
final class FloatPacking {

    private FloatPacking() {
    }

    /** What each format expects of the payload: element and scale formats and the scale block. */
    static void check(String layer, String format, FloatElements fe, int rows, int cols) {
        if (fe.rows() != rows || fe.cols() != cols) {
            throw new IllegalArgumentException("layer " + layer + ": float elements are " + fe.rows() + "x" + fe.cols() + ", the layer " + rows + "x" + cols);
        }
        switch (format) {
            case CtScheme.MXFP4 -> expect(layer, format, fe, ElementFormat.FP4_E2M1, ScaleFormat.E8M0, 1, 32);
            case CtScheme.MXFP8 -> expect(layer, format, fe, ElementFormat.FP8_E4M3, ScaleFormat.E8M0, 1, 32);
            case CtScheme.NVFP4 -> expect(layer, format, fe, ElementFormat.FP4_E2M1, ScaleFormat.FP8_E4M3, 1, 16);
            case CtScheme.FLOAT_QUANTIZED -> {
                if (fe.format() != ElementFormat.FP8_E4M3 || fe.scaleFormat() != ScaleFormat.FP32 || fe.globalScale() != 1f) {
                    throw mismatch(layer, format, fe, "FP8_E4M3 elements with float32 scales and no global scale");
                }
            }
            default -> throw new IllegalStateException(format);
        }
        if (format.equals(CtScheme.FLOAT_QUANTIZED) || format.equals(CtScheme.MXFP8)) {
            for (int i = 0; i < fe.count(); i++) {
                if ((fe.element(i) & 0x7F) == 0x7F) {
                    throw new IllegalArgumentException("layer " + layer + ": element " + i + " is an E4M3 NaN code");
                }
            }
        }
    }

    private static void expect(String layer, String format, FloatElements fe, ElementFormat ef, ScaleFormat sf, int br, int bc) {
        if (fe.format() != ef || fe.scaleFormat() != sf || fe.blockRows() != br || fe.blockCols() != bc
                || (sf == ScaleFormat.E8M0 && fe.globalScale() != 1f)) {
            throw mismatch(layer, format, fe, ef + " elements, " + sf + " scales per " + br + "x" + bc);
        }
    }

    private static IllegalArgumentException mismatch(String layer, String format, FloatElements fe, String wanted) {
        return new IllegalArgumentException("layer " + layer + ": " + format + " needs " + wanted + ", the payload has "
                + fe.format() + " elements, " + fe.scaleFormat() + " scales per " + fe.blockRows() + "x" + fe.blockCols()
                + ", global scale " + fe.globalScale());
    }

    static Map<String, HostTensor> pack(String format, FloatElements fe) {
        int rows = fe.rows();
        int cols = fe.cols();
        long[] scaleShape = {fe.scaleRows(), fe.scaleCols()};
        Map<String, HostTensor> t = new LinkedHashMap<>();
        switch (format) {
            case CtScheme.MXFP4 -> {
                t.put("weight_packed", bytes(DType.U8, fe.elements(), rows, cols / 2));
                t.put("weight_scale", bytes(DType.U8, e8m0(fe.scales()), scaleShape));
            }
            case CtScheme.MXFP8 -> {
                t.put("weight", bytes(DType.F8_E4M3, fe.elements(), rows, cols));
                t.put("weight_scale", bytes(DType.U8, e8m0(fe.scales()), scaleShape));
            }
            case CtScheme.NVFP4 -> {
                t.put("weight_packed", bytes(DType.U8, fe.elements(), rows, cols / 2));
                t.put("weight_scale", HostTensor.ofFloats(fe.scales(), DType.F8_E4M3, scaleShape));
                t.put("weight_global_scale", HostTensor.ofFloats(new float[]{fe.globalScale()}, 1));
            }
            default -> {
                t.put("weight", bytes(DType.F8_E4M3, fe.elements(), rows, cols));
                // per tensor compressed-tensors keeps a one-element scale; other strategies the [rows, cols] grid
                boolean tensor = fe.scaleRows() == 1 && fe.scaleCols() == 1 && fe.blockRows() == rows && fe.blockCols() == cols;
                t.put("weight_scale", tensor ? HostTensor.ofFloats(fe.scales(), 1) : HostTensor.ofFloats(fe.scales(), scaleShape));
            }
        }
        return t;
    }

    /** A power-of-two scale as its E8M0 byte (biased exponent, 2^-127 is 0). */
    static byte[] e8m0(float[] scales) {
        byte[] b = new byte[scales.length];
        for (int i = 0; i < scales.length; i++) {
            float s = scales[i];
            int e = Math.getExponent(s);
            if (!(s > 0) || Math.scalb(1f, e) != s && !(e == Float.MIN_EXPONENT - 1 && s == 0x1p-127f)) {
                throw new IllegalArgumentException("MX scale " + s + " is not a power of two in E8M0's range");
            }
            b[i] = (byte) (s == 0x1p-127f ? 0 : e + 127);
        }
        return b;
    }

    private static HostTensor bytes(DType d, byte[] data, long... shape) {
        return new HostTensor(d, shape, ByteBuffer.wrap(data));
    }

    /** The float value of an E8M0 byte. */
    static float fromE8m0(int b) {
        return Floats.e8m0ToF32((byte) b);
    }
}
