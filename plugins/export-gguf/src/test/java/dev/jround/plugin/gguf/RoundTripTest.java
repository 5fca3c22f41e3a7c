package dev.jround.plugin.gguf;

import dev.jround.spi.CorruptInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** quantize -> write -> read -> dequantize gives the in-memory dequantized weights bit for bit, for every type and encoder. */
class RoundTripTest {

    @TempDir
    Path dir;

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 0.02);
        }
        x[7] = 0.3f;
        return x;
    }

    static double relError(float[] ref, float[] got) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (ref[i] - got[i]) * (double) (ref[i] - got[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }

    private static double maxRelError(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16 -> 0.005;
            case Q8_0 -> 0.01;
            case Q6_K -> 0.03;
            case Q5_0, Q5_1, Q5_K -> 0.06;
            case Q4_0, Q4_1, Q4_K -> 0.12;
            case Q3_K -> 0.25;
            case Q2_K -> 0.5;
        };
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void everyTypeAndEncoderSurvivesTheFileBitForBit(GgmlType t) {
        int rows = 3;
        int cols = 512;
        float[] w = gaussian(rows * cols, t.ordinal());
        float[] imatrix = new float[cols];
        for (int c = 0; c < cols; c++) imatrix[c] = (c % 7 == 0) ? 10f : 0.5f + c % 3;
        imatrix[5] = 0f;
        List<byte[]> encodings = new ArrayList<>();
        encodings.add(GgmlQuants.quantizeReference(t, w));
        encodings.add(AutoRoundGgufRtn.quantize(t, w, rows, cols, null));
        encodings.add(AutoRoundGgufRtn.quantize(t, w, rows, cols, imatrix));
        Path f = dir.resolve("t.gguf");
        GgufWriter writer = new GgufWriter(f);
        writer.put("general.architecture", GgufValue.string("llama"));
        for (int i = 0; i < encodings.size(); i++) {
            writer.addTensor("w" + i, new long[]{cols, rows}, t, encodings.get(i));
        }
        writer.addTensor("odd", new long[]{3}, GgmlType.F32, GgmlQuants.quantizeReference(GgmlType.F32, new float[]{1, 2, 3}));
        writer.finish();
        try (GgufFile g = GgufFile.open(f)) {
            for (int i = 0; i < encodings.size(); i++) {
                GgufTensorInfo info = g.tensor("w" + i);
                assertEquals(t, info.type());
                assertEquals(0, info.offset() % 32);
                assertArrayEquals(encodings.get(i), g.rawBytes(info));
                float[] inMemory = GgmlQuants.dequantize(t, encodings.get(i), rows * cols);
                CodecFixtureTest.assertBitsEqual(inMemory, g.dequantize(info), t + " encoding " + i);
                double err = relError(w, inMemory);
                assertTrue(err < maxRelError(t), t + " encoding " + i + " relative error " + err);
            }
            assertArrayEquals(new float[]{1, 2, 3}, g.dequantize("odd"));
        }
    }

    @Test
    void importanceWeightsLowerTheWeightedErrorOfTheSearch() {
        int rows = 16;
        int cols = 256;
        float[] w = gaussian(rows * cols, 42);
        float[] imatrix = new float[cols];
        for (int c = 0; c < cols; c++) imatrix[c] = c % 4 == 0 ? 50f : 0.1f;
        for (GgmlType t : new GgmlType[]{GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q4_0}) {
            float[] plain = GgmlQuants.dequantize(t, AutoRoundGgufRtn.quantize(t, w, rows, cols, null), rows * cols);
            float[] weighted = GgmlQuants.dequantize(t, AutoRoundGgufRtn.quantize(t, w, rows, cols, imatrix), rows * cols);
            double ePlain = 0;
            double eWeighted = 0;
            for (int i = 0; i < w.length; i++) {
                double im = imatrix[i % cols];
                ePlain += im * (plain[i] - w[i]) * (plain[i] - w[i]);
                eWeighted += im * (weighted[i] - w[i]) * (weighted[i] - w[i]);
            }
            assertTrue(eWeighted < ePlain, t + ": weighted error " + eWeighted + " not below " + ePlain);
        }
    }

    @Test
    void metadataOfEveryValueTypeRoundTrips() {
        Path f = dir.resolve("m.gguf");
        GgufWriter w = new GgufWriter(f);
        w.put("u8", new GgufValue(GgufValueType.UINT8, null, 200L));
        w.put("i8", new GgufValue(GgufValueType.INT8, null, -5L));
        w.put("u16", new GgufValue(GgufValueType.UINT16, null, 60000L));
        w.put("i16", new GgufValue(GgufValueType.INT16, null, -300L));
        w.put("u32", GgufValue.uint32(4_000_000_000L));
        w.put("i32", GgufValue.int32(-7));
        w.put("f32", GgufValue.float32(1e-5));
        w.put("bool", GgufValue.bool(true));
        w.put("str", GgufValue.string("héllo ▁"));
        w.put("u64", new GgufValue(GgufValueType.UINT64, null, 1L << 40));
        w.put("i64", new GgufValue(GgufValueType.INT64, null, -(1L << 40)));
        w.put("f64", new GgufValue(GgufValueType.FLOAT64, null, 0.1));
        w.put("arr", GgufValue.array(GgufValueType.INT32, List.of(1L, -2L, 3L)));
        w.put("strs", GgufValue.array(GgufValueType.STRING, List.of("a", "", "c")));
        w.finish();
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(14, g.metadata().size());
            assertEquals(200L, g.get("u8").value());
            assertEquals(-5L, g.get("i8").value());
            assertEquals(60000L, g.get("u16").value());
            assertEquals(-300L, g.get("i16").value());
            assertEquals(4_000_000_000L, g.get("u32").value());
            assertEquals(-7L, g.get("i32").value());
            assertEquals(1e-5f, g.get("f32").value());
            assertEquals(true, g.get("bool").value());
            assertEquals("héllo ▁", g.get("str").value());
            assertEquals(1L << 40, g.get("u64").value());
            assertEquals(-(1L << 40), g.get("i64").value());
            assertEquals(0.1, g.get("f64").value());
            assertEquals(List.of(1L, -2L, 3L), g.get("arr").list());
            assertEquals(GgufValueType.INT32, g.get("arr").elementType());
            assertEquals(List.of("a", "", "c"), g.get("strs").list());
            assertTrue(g.tensors().isEmpty());
        }
    }

    @Test
    void tensorsAreWrittenInTheRequestedOrderWithPaddedOffsets() {
        Path f = dir.resolve("o.gguf");
        GgufWriter w = new GgufWriter(f);
        w.addTensor("token_embd.weight", new long[]{3}, GgmlType.F32, new byte[12]);
        w.addTensor("blk.1.attn_q.weight", new long[]{32}, GgmlType.Q8_0, new byte[34]);
        w.addTensor("blk.0.ffn_norm.weight", new long[]{5}, GgmlType.F32, new byte[20]);
        w.addTensor("blk.0.attn_q.weight", new long[]{2}, GgmlType.F16, new byte[4]);
        w.finish(GgufNames::compare);
        try (GgufFile g = GgufFile.open(f)) {
            List<String> names = g.tensors().stream().map(GgufTensorInfo::name).toList();
            assertEquals(List.of("blk.0.attn_q.weight", "blk.0.ffn_norm.weight", "blk.1.attn_q.weight", "token_embd.weight"), names);
            assertEquals(List.of(0L, 32L, 64L, 128L), g.tensors().stream().map(GgufTensorInfo::offset).toList());
        }
    }

    @Test
    void corruptFilesAreRejectedWithAMessage() throws IOException {
        Path f = dir.resolve("c.gguf");
        GgufWriter w = new GgufWriter(f);
        w.put("k", GgufValue.uint32(1));
        w.addTensor("a", new long[]{32}, GgmlType.Q8_0, new byte[34]);
        w.addTensor("b", new long[]{32}, GgmlType.Q8_0, new byte[34]);
        w.finish();
        byte[] good = Files.readAllBytes(f);

        byte[] magic = good.clone();
        magic[0] = 'X';
        Files.write(f, magic);
        assertThrows(CorruptInputException.class, () -> GgufFile.open(f).close());

        Files.write(f, java.util.Arrays.copyOf(good, good.length - 40));
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains("past the end"), e.getMessage());

        byte[] badOffset = good.clone();
        ByteBuffer b = ByteBuffer.wrap(badOffset).order(ByteOrder.LITTLE_ENDIAN);
        // offset of tensor "b" is the last u64 of its info, right before the alignment padding
        int bInfo = indexOf(badOffset, new byte[]{1, 0, 0, 0, 0, 0, 0, 0, 'b'});
        int offsetPos = bInfo + 9 + 4 + 8 + 4;
        b.putLong(offsetPos, 40);
        Files.write(f, badOffset);
        e = assertThrows(CorruptInputException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains("offset"), e.getMessage());

        byte[] badType = good.clone();
        ByteBuffer.wrap(badType).order(ByteOrder.LITTLE_ENDIAN).putInt(offsetPos - 4, 99);
        Files.write(f, badType);
        assertThrows(CorruptInputException.class, () -> GgufFile.open(f).close());
    }

    @Test
    void abortLeavesNoFile() throws IOException {
        Path f = dir.resolve("sub").resolve("a.gguf");
        GgufWriter w = new GgufWriter(f);
        w.addTensor("a", new long[]{32}, GgmlType.Q8_0, new byte[34]);
        w.abort();
        assertFalse(Files.exists(f));
        try (var s = Files.list(f.getParent())) {
            assertEquals(0, s.count());
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }
}
