package dev.jround.plugin.gguf;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Decoding and llama.cpp reference encoding against fixtures made by tools/fixtures/gguf/make_fixtures.py:
 * the encodings come from ggml's own C encoders, the decoded values from the gguf Python package.
 */
class CodecFixtureTest {

    /** One codec fixture file. */
    record Fixture(float[] input, byte[] encoded, float[] decoded, byte[] randomBlocks, float[] randomDecoded) {
        static Fixture load(GgmlType t) throws IOException {
            try (InputStream in = CodecFixtureTest.class.getResourceAsStream("/gguf/codec-" + t + ".bin")) {
                assertNotNull(in, "fixture for " + t);
                ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
                float[] x = floats(b, b.getInt());
                byte[] enc = bytes(b, b.getInt());
                float[] deq = floats(b, x.length);
                byte[] rnd = bytes(b, b.getInt());
                float[] rdeq = floats(b, b.getInt());
                assertEquals(0, b.remaining());
                return new Fixture(x, enc, deq, rnd, rdeq);
            }
        }

        private static float[] floats(ByteBuffer b, int n) {
            float[] f = new float[n];
            for (int i = 0; i < n; i++) f[i] = b.getFloat();
            return f;
        }

        private static byte[] bytes(ByteBuffer b, int n) {
            byte[] a = new byte[n];
            b.get(a);
            return a;
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = "F32", mode = EnumSource.Mode.EXCLUDE)
    void decodingRandomBlocksMatchesGgufPackage(GgmlType t) throws IOException {
        Fixture f = Fixture.load(t);
        float[] got = GgmlQuants.dequantize(t, f.randomBlocks(), f.randomDecoded().length);
        assertBitsEqual(f.randomDecoded(), got, t + " random blocks");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = "F32", mode = EnumSource.Mode.EXCLUDE)
    void referenceEncoderMatchesGgml(GgmlType t) throws IOException {
        Fixture f = Fixture.load(t);
        byte[] enc = GgmlQuants.quantizeReference(t, f.input());
        assertArrayEquals(f.encoded(), enc, t + " encoding");
        assertBitsEqual(f.decoded(), GgmlQuants.dequantize(t, enc, f.input().length), t + " decoding of the encoding");
    }

    @Test
    void q4_0WorkedExampleOfTheSpec() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j - 16;
        byte[] y = GgmlQuants.quantizeReference(GgmlType.Q4_0, x);
        assertEquals("00 40 80 91 91 a2 a2 b3 b3 c4 c4 d5 d5 e6 e6 f7 f7 f8", hex(y));
    }

    @Test
    void kQuantScalePackingsOfTheSpec() {
        byte[] y = new byte[12];
        GgmlQuants.packK4Scales(new int[]{1, 2, 3, 4, 40, 50, 60, 63}, new int[]{5, 6, 7, 8, 20, 33, 46, 63}, y, 0);
        assertEquals("81 c2 c3 c4 45 86 87 c8 48 12 ec ff", hex(y));
        ByteBuffer b = ByteBuffer.wrap(y);
        for (int j = 0; j < 8; j++) {
            assertEquals(new int[]{1, 2, 3, 4, 40, 50, 60, 63}[j], GgmlQuants.scaleK4(b, 0, j));
            assertEquals(new int[]{5, 6, 7, 8, 20, 33, 46, 63}[j], GgmlQuants.minK4(b, 0, j));
        }
        int[] q3 = {-32, -1, 0, 1, 31, 5, -5, 10, -10, 20, -20, 30, -30, 15, -15, 7};
        byte[] z = new byte[12];
        GgmlQuants.packQ3Scales(q3, z, 0);
        assertEquals("60 4f c0 e1 2f f5 1b 7a 1c b9 46 ba", hex(z));
        assertArrayEquals(q3, GgmlQuants.q3kScales(ByteBuffer.wrap(z), 0));
    }

    static String hex(byte[] y) {
        StringBuilder s = new StringBuilder();
        for (byte v : y) s.append(s.length() == 0 ? "" : " ").append(String.format("%02x", v & 0xFF));
        return s.toString();
    }
}
