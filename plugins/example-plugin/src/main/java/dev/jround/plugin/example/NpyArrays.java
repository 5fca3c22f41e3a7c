package dev.jround.plugin.example;

import dev.jround.spi.tensor.HostTensor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Encodes arrays in NumPy's {@code .npy} format, version 1.0 (little-endian, C order). */
final class NpyArrays {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private NpyArrays() {
    }

    static byte[] uint8(int[] values, long... shape) {
        byte[] data = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] > 255) {
                throw new IllegalArgumentException("code " + values[i] + " at " + i + " does not fit uint8");
            }
            data[i] = (byte) values[i];
        }
        return encode("|u1", shape, data);
    }

    static byte[] float32(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return encode("<f4", shape, b.array());
    }

    /**
     * A host tensor in its own dtype where NumPy has one; every other dtype (bf16, the fp8 family and any
     * the SPI adds later) is stored as float32. The {@code default} branch keeps this plugin compiling
     * and running when the SPI's dtype enum grows.
     */
    static byte[] of(HostTensor t) {
        String descr = switch (t.dtype()) {
            case F64 -> "<f8";
            case F32 -> "<f4";
            case F16 -> "<f2";
            case I64 -> "<i8";
            case I32 -> "<i4";
            case I16 -> "<i2";
            case I8 -> "|i1";
            case U64 -> "<u8";
            case U32 -> "<u4";
            case U16 -> "<u2";
            case U8 -> "|u1";
            case BOOL -> "|b1";
            default -> null;
        };
        if (descr == null) {
            return float32(t.toFloats(), t.shape());
        }
        ByteBuffer src = t.data().duplicate();
        byte[] data = new byte[src.remaining()];
        src.get(data);
        return encode(descr, t.shape(), data);
    }

    static byte[] encode(String descr, long[] shape, byte[] littleEndianData) {
        String dims = shape.length == 1 ? shape[0] + ","
                : Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        // magic(8) + header length(2) + dict + padding + '\n' must be a multiple of 64
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(unpadded + padding + littleEndianData.length);
        out.writeBytes(MAGIC);
        out.write(header.length() & 0xFF);
        out.write(header.length() >>> 8);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(littleEndianData);
        return out.toByteArray();
    }
}
