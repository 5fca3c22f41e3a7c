package dev.jround.lib.hf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Bit layouts pinned by the worked examples of docs/formats.md, plus random round trips. */
class PackingTest {

    @Test
    void fourBitStreamPutsValueZeroInTheLowNibble() {
        assertArrayEquals(new int[]{0x76543210}, BitStream.pack(new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 4));
    }

    @Test
    void threeBitStreamMatchesTheGptqWords() {
        int[] v = new int[32];
        for (int i = 0; i < 32; i++) {
            v[i] = i % 8;
        }
        int[] w = BitStream.pack(v, 3);
        assertArrayEquals(new int[]{0x88FAC688, 0xC688FAC6, 0xFAC688FA}, w);
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(w);
        assertEquals((byte) 0x88, b.get(0));
        assertEquals((byte) 0xC6, b.get(1));
        assertEquals((byte) 0xFA, b.get(2));
        assertArrayEquals(v, BitStream.unpack(w, 32, 3));
    }

    @Test
    void streamMasksOversizedValuesAndRejectsPartialWords() {
        assertArrayEquals(new int[]{0x0000000F | 0xF0}, BitStream.pack(new int[]{-1, 0x1F, 0, 0, 0, 0, 0, 0}, 4));
        assertThrows(IllegalArgumentException.class, () -> BitStream.pack(new int[5], 4));
    }

    @Test
    void streamRoundTripsEveryWidth() {
        Random r = new Random(1);
        for (int bits = 1; bits <= 8; bits++) {
            int[] v = new int[32 * 5];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(1 << bits);
            }
            assertArrayEquals(v, BitStream.unpack(BitStream.pack(v, bits), v.length, bits), "bits " + bits);
        }
    }

    @Test
    void gptqQweightPacksAlongTheInputDimension() {
        int out = 2;
        int in = 32;
        int[] codes = new int[out * in];
        for (int k = 0; k < in; k++) {
            codes[k] = k % 8;            // column 0
            codes[in + k] = 15 - (k % 16); // column 1
        }
        int[] q = GptqPacking.packQweight(codes, out, in, 4);
        assertEquals(4 * 2, q.length);
        assertEquals(0x76543210, q[0]);           // qweight[0][0]
        assertEquals(0x89ABCDEF, q[1]);           // qweight[0][1]
        assertArrayEquals(codes, GptqPacking.unpackQweight(q, out, in, 4));
    }

    @Test
    void symmetricZeroWordsAreTheDocumentedConstants() {
        int out = 32;
        int[][] expectV1 = {null, null, {0x55555555}, {0xDB6DB6DB, 0xB6DB6DB6, 0x6DB6DB6D}, {0x77777777}, null, null, null, {0x7F7F7F7F}};
        int[][] expectV2 = {null, null, {0xAAAAAAAA}, {0x24924924, 0x49249249, 0x92492492}, {0x88888888}, null, null, null, {0x80808080}};
        for (int bits : new int[]{2, 3, 4, 8}) {
            int[] zeros = new int[out];
            java.util.Arrays.fill(zeros, 1 << (bits - 1));
            int[] v1 = GptqPacking.packQzeros(zeros, out, 1, bits, ZeroPointConvention.V1);
            int[] v2 = GptqPacking.packQzeros(zeros, out, 1, bits, ZeroPointConvention.V2);
            for (int i = 0; i < v1.length; i++) {
                assertEquals(expectV1[bits][i % expectV1[bits].length], v1[i], "v1 bits " + bits + " word " + i);
                assertEquals(expectV2[bits][i % expectV2[bits].length], v2[i], "v2 bits " + bits + " word " + i);
            }
            assertArrayEquals(zeros, GptqPacking.unpackQzeros(v1, out, 1, bits, ZeroPointConvention.V1));
            assertArrayEquals(zeros, GptqPacking.unpackQzeros(v2, out, 1, bits, ZeroPointConvention.V2));
        }
    }

    @Test
    void v1StoresZeroMinusOneMaskedSoTwoToTheBitsRoundTrips() {
        int[] zeros = new int[32];
        zeros[3] = 16;
        zeros[4] = 1;
        int[] packed = GptqPacking.packQzeros(zeros, 32, 1, 4, ZeroPointConvention.V1);
        int[] back = GptqPacking.unpackQzeros(packed, 32, 1, 4, ZeroPointConvention.V1);
        assertEquals(16, back[3]);
        assertEquals(1, back[4]);
        assertEquals(16, back[0], "a zero point of 0 is the v1 hazard: it decodes as 2^b");
        // stored fields of zeros 0,0,0,16,1,0,0,0: each z-1 masked to 4 bits, nothing bleeds into a neighbour
        assertEquals(0xFFF0FFFF, packed[0]);
    }

    @Test
    void gptqRoundTripsAllWidthsAndGroupings() {
        Random r = new Random(7);
        for (int bits : new int[]{2, 3, 4, 8}) {
            int out = 64;
            int in = 96;
            int groups = 3;
            int[] codes = new int[out * in];
            int[] zeros = new int[out * groups];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = r.nextInt(1 << bits);
            }
            for (int i = 0; i < zeros.length; i++) {
                zeros[i] = 1 + r.nextInt((1 << bits) - 1);
            }
            assertArrayEquals(codes, GptqPacking.unpackQweight(GptqPacking.packQweight(codes, out, in, bits), out, in, bits));
            for (ZeroPointConvention c : ZeroPointConvention.values()) {
                assertArrayEquals(zeros, GptqPacking.unpackQzeros(GptqPacking.packQzeros(zeros, out, groups, bits, c), out, groups, bits, c));
            }
        }
    }

    @Test
    void awqInterleavesNibbles() {
        int out = 8;
        int in = 1;
        int[] codes = {0, 1, 2, 3, 4, 5, 6, 7};
        int[] q = AwqPacking.packQweight(codes, out, in);
        assertArrayEquals(new int[]{0x75316420}, q);
        assertArrayEquals(codes, AwqPacking.unpackQweight(q, out, in));
        int[] sym = new int[16];
        java.util.Arrays.fill(sym, 8);
        assertArrayEquals(new int[]{0x88888888, 0x88888888}, AwqPacking.packQzeros(sym, 16, 1));
    }

    @Test
    void awqRoundTripsAndPacksAlongOutput() {
        Random r = new Random(3);
        int out = 24;
        int in = 64;
        int groups = 2;
        int[] codes = new int[out * in];
        int[] zeros = new int[out * groups];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = r.nextInt(16);
        }
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = r.nextInt(16);
        }
        int[] q = AwqPacking.packQweight(codes, out, in);
        assertEquals(in * out / 8, q.length);
        assertArrayEquals(codes, AwqPacking.unpackQweight(q, out, in));
        assertArrayEquals(zeros, AwqPacking.unpackQzeros(AwqPacking.packQzeros(zeros, out, groups), out, groups));
        assertThrows(IllegalArgumentException.class, () -> AwqPacking.packQweight(new int[12], 12, 1));
    }
}
