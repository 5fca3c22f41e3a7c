package dev.jround.lib.hf;

import dev.jround.spi.CorruptInputException;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The integer tensor layouts of the transformers/vLLM world and the conversion between a quantizer's
 * record (codes, scales, zeros) and the {@code qweight}/{@code qzeros}/{@code scales}[/{@code g_idx}] tensors.
 */
public enum PackedLayout {
    /** GPTQ layout, zero points stored minus one (auto_gptq, auto_round:auto_gptq). */
    GPTQ_V1,
    /** GPTQ layout, zero points stored as is (auto_round native, auto_round:gptqmodel). */
    GPTQ_V2,
    /** AutoAWQ GEMM layout, 4-bit, interleaved, zero points as is (auto_awq, auto_round:auto_awq). */
    AWQ;

    public ZeroPointConvention convention() {
        return this == GPTQ_V1 ? ZeroPointConvention.V1 : ZeroPointConvention.V2;
    }

    /** Lowest and highest zero point this layout stores exactly ({@code V1} decodes an all-ones field as {@code 2^b}). */
    public int minZero() {
        return this == GPTQ_V1 ? 1 : 0;
    }

    public int maxZero(int bits) {
        return this == GPTQ_V1 ? 1 << bits : (1 << bits) - 1;
    }

    /** The integer contents of one packed Linear, in the quantizer's row-major layout. */
    public record Unpacked(int out, int in, int bits, int groupSize, int groups, int[] codes, float[] scales,
                           int[] zeros, int[] gIdx) {

        /** The group of input channel {@code k}. */
        public int groupOf(int k) {
            return gIdx == null ? k / groupSize : gIdx[k];
        }

        /** {@code w[n][k] = scale * (code - zero)} evaluated in float32, row-major {@code [out][in]}. */
        public float[] dequantize() {
            float[] w = new float[Math.multiplyExact(out, in)];
            for (int n = 0; n < out; n++) {
                int rowQ = n * in;
                int rowS = n * groups;
                for (int k = 0; k < in; k++) {
                    int g = groupOf(k);
                    w[rowQ + k] = scales[rowS + g] * (float) (codes[rowQ + k] - zeros[rowS + g]);
                }
            }
            return w;
        }
    }

    /**
     * The tensors of a quantized layer under their parameter suffixes, in write order: {@code qweight},
     * {@code qzeros}, {@code scales} and, if asked, {@code g_idx}. Scales are stored as fp16.
     */
    public Map<String, HostTensor> pack(QuantizedLayer layer, boolean withGIdx) {
        int out = layer.rows();
        int in = layer.cols();
        int bits = layer.bits();
        int groups = layer.groupsPerRow();
        Map<String, HostTensor> t = new LinkedHashMap<>();
        if (this == AWQ) {
            if (bits != 4) {
                throw new IllegalArgumentException("AWQ layout stores 4-bit codes only, layer " + layer.name() + " has " + bits);
            }
            t.put("qweight", HostTensor.ofInts(AwqPacking.packQweight(layer.grid().codes(), out, in), in, out / 8));
            t.put("qzeros", HostTensor.ofInts(AwqPacking.packQzeros(layer.grid().zeros(), out, groups), groups, out / 8));
        } else {
            t.put("qweight", HostTensor.ofInts(GptqPacking.packQweight(layer.grid().codes(), out, in, bits),
                    GptqPacking.qweightRows(in, bits), out));
            t.put("qzeros", HostTensor.ofInts(GptqPacking.packQzeros(layer.grid().zeros(), out, groups, bits, convention()),
                    groups, GptqPacking.qzerosCols(out, bits)));
        }
        t.put("scales", scalesToF16(layer.grid().scales(), out, groups));
        if (withGIdx) {
            t.put("g_idx", HostTensor.ofInts(GptqPacking.trivialGIdx(in, layer.grid().groupSize()), in));
        }
        return t;
    }

    /** What {@link #check} derives from the tensor headers of one packed Linear. */
    public record Geometry(int out, int in, int groupSize, int groups) {
    }

    /**
     * Validates the headers (dtype and shape) of one packed Linear against each other and the configured
     * {@code bits} and {@code configGroupSize}, without reading any data, so a checkpoint can be refused before
     * anything is loaded or written. {@code gIdx} may be null. Every message names the tensor at fault.
     */
    public Geometry check(String module, TensorInfo qweight, TensorInfo qzeros, TensorInfo scales, TensorInfo gIdx,
                          int bits, int configGroupSize) {
        if (bits < 1 || bits > 16) {
            throw corrupt(module, "bit width " + bits + " is outside 1..16");
        }
        integerTensor(module, "qweight", qweight, 2);
        integerTensor(module, "qzeros", qzeros, 2);
        if (!scales.dtype().isFloating() || scales.shape().length != 2) {
            throw corrupt(module, module + ".scales is " + scales.dtype() + " " + shape(scales.shape())
                    + ", expected a 2-D float tensor (F16, BF16 or F32) [groups, out_features]");
        }
        if (gIdx != null) {
            integerTensor(module, "g_idx", gIdx, 1);
        }
        long[] qw = qweight.shape();
        long out;
        long in;
        if (this == AWQ) {
            if (bits != 4) {
                throw corrupt(module, "the AWQ layout stores 4-bit codes, the quantization_config says " + bits + " bits");
            }
            in = qw[0];
            out = qw[1] * 8;
        } else {
            out = qw[1];
            long inBits = qw[0] * 32L;
            if (inBits % bits != 0) {
                throw corrupt(module, module + ".qweight " + shape(qw) + " has " + qw[0] + " rows of 32 bits, not a whole number of "
                        + bits + "-bit inputs (quantization_config bits " + bits + ")");
            }
            in = inBits / bits;
        }
        if (in < 1 || out < 1 || in > Integer.MAX_VALUE || out > Integer.MAX_VALUE) {
            throw corrupt(module, module + ".qweight " + shape(qw) + " gives " + in + " inputs and " + out + " outputs");
        }
        if (gIdx != null && gIdx.shape()[0] != in) {
            throw corrupt(module, module + ".g_idx has " + gIdx.shape()[0] + " entries but " + module + ".qweight "
                    + shape(qw) + " holds " + in + " " + bits + "-bit input channels");
        }
        int groupSize = configGroupSize <= 0 || configGroupSize > in ? (int) in : configGroupSize;
        long groups = scales.shape()[0];
        if (scales.shape()[1] != out) {
            throw corrupt(module, module + ".scales " + shape(scales.shape()) + " does not match the " + out
                    + " output channels of " + module + ".qweight " + shape(qw));
        }
        long needed = (in + groupSize - 1) / groupSize;
        if (groups != needed) {
            throw corrupt(module, module + ".scales has " + groups + " groups but " + in + " input channels with group_size "
                    + configGroupSize + " need " + needed + " (check quantization_config group_size)");
        }
        if (this != AWQ && out * bits % 32 != 0) {
            throw corrupt(module, out + " output channels at " + bits + " bits do not fill whole " + module + ".qzeros words");
        }
        long zeroCols = this == AWQ ? out / 8 : out * bits / 32;
        if (qzeros.shape()[0] != groups || qzeros.shape()[1] != zeroCols) {
            throw corrupt(module, module + ".qzeros " + shape(qzeros.shape()) + " does not match " + module + ".scales "
                    + shape(scales.shape()) + " at " + bits + " bits (expected [" + groups + ", " + zeroCols + "])");
        }
        return new Geometry((int) out, (int) in, groupSize, (int) groups);
    }

    private static void integerTensor(String module, String part, TensorInfo t, int rank) {
        // 32-bit words only for the packed parts: wider ones would not fit an int, narrower ones are not a layout
        boolean ok = part.equals("g_idx")
                ? t.dtype() == DType.I32 || t.dtype() == DType.I64 || t.dtype() == DType.I16 || t.dtype() == DType.U32
                : t.dtype() == DType.I32 || t.dtype() == DType.U32;
        if (!ok || t.shape().length != rank) {
            throw corrupt(module, module + "." + part + " is " + t.dtype() + " " + shape(t.shape()) + ", expected a " + rank
                    + "-D " + (part.equals("g_idx") ? "integer" : "I32") + " tensor");
        }
    }

    /**
     * Reads packed tensors back. {@code configGroupSize} is the checkpoint's group size ({@code -1} or
     * {@code 0} = one group per row); {@code gIdx} may be null. Shapes are validated against each other.
     */
    public Unpacked unpack(String module, HostTensor qweight, HostTensor qzeros, HostTensor scales, HostTensor gIdx,
                           int bits, int configGroupSize) {
        Geometry geo = check(module, info(module, "qweight", qweight), info(module, "qzeros", qzeros),
                info(module, "scales", scales), gIdx == null ? null : info(module, "g_idx", gIdx), bits, configGroupSize);
        int out = geo.out();
        int in = geo.in();
        int groupSize = geo.groupSize();
        int groups = geo.groups();
        int[] g = null;
        if (gIdx != null) {
            int[] raw;
            try {
                raw = gIdx.toInts();
            } catch (ArithmeticException e) {
                throw corrupt(module, module + ".g_idx holds a value outside the int range");
            }
            boolean trivial = true;
            for (int k = 0; k < in; k++) {
                if (raw[k] < 0 || raw[k] >= groups) {
                    throw corrupt(module, module + ".g_idx[" + k + "] = " + raw[k] + " is outside the groups 0.." + (groups - 1)
                            + " of " + module + ".scales");
                }
                trivial &= raw[k] == k / groupSize;
            }
            g = trivial ? null : raw;
        }
        int[] qw = qweight.toInts();
        int[] qz = qzeros.toInts();
        int[] codes;
        int[] zeros;
        if (this == AWQ) {
            codes = AwqPacking.unpackQweight(qw, out, in);
            zeros = AwqPacking.unpackQzeros(qz, out, groups);
        } else {
            codes = GptqPacking.unpackQweight(qw, out, in, bits);
            zeros = GptqPacking.unpackQzeros(qz, out, groups, bits, convention());
        }
        return new Unpacked(out, in, bits, groupSize, groups, codes, scalesFromTensor(scales, out, groups), zeros, g);
    }

    /** Scales {@code [out][groups]} as an fp16 tensor {@code [groups][out]}. */
    public static HostTensor scalesToF16(float[] scales, int out, int groups) {
        GptqPacking.checkLength("scales", scales.length, (long) out * groups);
        ByteBuffer b = ByteBuffer.allocate(scales.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                b.putShort(2 * (g * out + n), Floats.f32ToF16(scales[n * groups + g]));
            }
        }
        return new HostTensor(DType.F16, new long[]{groups, out}, b);
    }

    /** A {@code [groups][out]} scale tensor (any float dtype) as float32 {@code [out][groups]}. */
    public static float[] scalesFromTensor(HostTensor scales, int out, int groups) {
        float[] t = scales.toFloats();
        float[] s = new float[t.length];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                s[n * groups + g] = t[g * out + n];
            }
        }
        return s;
    }

    private static TensorInfo info(String module, String part, HostTensor t) {
        return new TensorInfo(module + "." + part, t.dtype(), t.shape());
    }

    private static String shape(long[] shape) {
        return java.util.Arrays.toString(shape);
    }

    private static CorruptInputException corrupt(String module, String what) {
        return new CorruptInputException(what.startsWith(module + ".") ? what : "packed layer " + module + ": " + what,
                "the checkpoint's tensors do not match its quantization_config (bits, group_size); re-export it");
    }
}
