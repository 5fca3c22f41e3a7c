package dev.jround.plugin.gguf;

import dev.jround.spi.CorruptInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged GGUF files are refused by {@link GgufFile#open} and the inference backend with a
 * {@link CorruptInputException} naming the file and the key or tensor at fault, and no allocation or loop is
 * sized by a count the file cannot back.
 */
class GgufBadInputTest {

    @TempDir
    Path dir;

    /** Little-endian GGUF bytes, written field by field so any field can be a lie. */
    private static final class Bytes {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u32(long v) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v);
            out.writeBytes(b.array());
            return this;
        }

        Bytes u64(long v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            out.writeBytes(b.array());
            return this;
        }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.writeBytes(b);
            return this;
        }

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Bytes header(long tensors, long kvs) {
            return raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensors).u64(kvs);
        }

        Bytes tensor(String name, long[] ne, int type, long offset) {
            str(name).u32(ne.length);
            for (long d : ne) {
                u64(d);
            }
            return u32(type).u64(offset);
        }

        /** Pads to the 32-byte alignment and appends {@code n} data bytes. */
        Bytes data(int n) {
            while (out.size() % 32 != 0) {
                out.write(0);
            }
            out.writeBytes(new byte[n]);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A valid file: one string key and one F32 [8, 4] tensor. */
    private static byte[] valid() {
        return new Bytes().header(1, 1).str("general.architecture").u32(8).str("llama")
                .tensor("token_embd.weight", new long[]{8, 4}, 0, 0).data(128).bytes();
    }

    private CorruptInputException refused(byte[] content, String... named) throws Exception {
        Path f = dir.resolve("m.gguf");
        Files.write(f, content);
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String n : named) {
            assertTrue(e.getMessage().contains(n), "message should name '" + n + "': " + e.getMessage());
        }
        assertEquals(1, e.exitCode());
        return e;
    }

    @Test
    void theValidFileOpens() throws Exception {
        Path f = dir.resolve("ok.gguf");
        Files.write(f, valid());
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(32, g.dequantize("token_embd.weight").length);
        }
    }

    @Test
    void headerDamage() throws Exception {
        refused(new byte[0], "empty");
        refused("hello world, not gguf".getBytes(StandardCharsets.US_ASCII), "bad magic");
        byte[] v99 = valid();
        v99[4] = 99;
        refused(v99, "version 99");
        refused(Arrays.copyOf(valid(), 6), "truncated", "the header");
        refused(new Bytes().header(1L << 40, 1).bytes(), "1099511627776 tensors");
        refused(new Bytes().header(0, 1L << 40).bytes(), "1099511627776 metadata keys");
    }

    @Test
    void everyTruncationIsACleanError() throws Exception {
        byte[] full = valid();
        for (int n = 0; n < full.length; n++) {
            refused(Arrays.copyOf(full, n));
        }
    }

    @Test
    void metadataLengthsAndCountsAreBoundedByTheFile() throws Exception {
        refused(new Bytes().header(0, 1).u64(1L << 62).raw(new byte[16]).bytes(), "metadata key #0", "string of 4611686018427387904");
        refused(new Bytes().header(0, 1).str("general.name").u32(8).u64(1 << 25).raw(new byte[8]).bytes(),
                "general.name", "past the end");
        refused(new Bytes().header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64((1L << 31) - 9).raw(new byte[64]).bytes(),
                "tokenizer.ggml.tokens", "2147483639 STRING elements");
        refused(new Bytes().header(0, 1).str("general.tags").u32(9).u32(9).u64(1).bytes(), "general.tags", "nested");
        refused(new Bytes().header(0, 1).str("general.flag").u32(7).raw(new byte[]{2}).bytes(), "general.flag");
        refused(new Bytes().header(0, 2).str("general.name").u32(8).str("a").str("general.name").u32(8).str("b").bytes(),
                "general.name");
        refused(new Bytes().header(0, 1).str("general.alignment").u32(4).u32(3).bytes(), "general.alignment");
    }

    @Test
    void tensorInfoDamage() throws Exception {
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{8, -4}, 0, 0).data(128).bytes(),
                "token_embd.weight", "negative");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{1L << 32, 1L << 32}, 0, 0).data(32).bytes(),
                "token_embd.weight", "[4294967296, 4294967296]");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{1L << 31, 1L << 31, 1L << 31}, 0, 0).data(32).bytes(),
                "token_embd.weight");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{2, 2, 2, 2, 2}, 0, 0).data(128).bytes(),
                "token_embd.weight", "5 dimensions");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{8, 4}, 99, 0).data(128).bytes(),
                "token_embd.weight", "type id 99");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{8, 4}, 0, 1L << 40).data(128).bytes(),
                "token_embd.weight", "offset 1099511627776");
        refused(new Bytes().header(2, 0).tensor("a.weight", new long[]{8}, 0, 0).tensor("b.weight", new long[]{8}, 0, 36)
                .data(96).bytes(), "b.weight", "offset 36, expected 32");
        refused(new Bytes().header(1, 0).tensor("token_embd.weight", new long[]{8, 4}, 0, 0).data(64).bytes(),
                "token_embd.weight", "past the end");
    }

    @Test
    void aFileNamedGgufIsClaimedSoItsDamageIsReported() throws Exception {
        Path f = dir.resolve("broken.gguf");
        Files.writeString(f, "not a gguf");
        GgufInferenceBackend b = new GgufInferenceBackend();
        assertTrue(b.canLoad(f));
        CorruptInputException e = assertThrows(CorruptInputException.class,
                () -> b.inspect(f, new PrintWriter(new StringWriter()), 3));
        assertTrue(e.getMessage().contains("broken.gguf") && e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void missingOrZeroHyperParametersAreNamed() throws Exception {
        GgufInferenceBackend b = new GgufInferenceBackend();
        Path f = dir.resolve("hp.gguf");
        Files.write(f, new Bytes().header(1, 4).str("general.architecture").u32(8).str("llama")
                .str("llama.embedding_length").u32(4).u32(8).str("llama.block_count").u32(4).u32(1)
                .str("llama.feed_forward_length").u32(4).u32(16)
                .tensor("token_embd.weight", new long[]{8, 4}, 0, 0).data(128).bytes());
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> b.load(f).close());
        assertTrue(e.getMessage().contains("llama.attention.head_count is missing"), e.getMessage());
        Files.write(f, new Bytes().header(1, 5).str("general.architecture").u32(8).str("llama")
                .str("llama.embedding_length").u32(4).u32(8).str("llama.block_count").u32(4).u32(1)
                .str("llama.feed_forward_length").u32(4).u32(16).str("llama.attention.head_count").u32(4).u32(3)
                .tensor("token_embd.weight", new long[]{8, 4}, 0, 0).data(128).bytes());
        e = assertThrows(CorruptInputException.class, () -> b.load(f).close());
        assertTrue(e.getMessage().contains("llama.embedding_length 8 is not a multiple of llama.attention.head_count 3"), e.getMessage());
    }

    private Path tinyLlama(String name, long blocks, long[] qNe) throws Exception {
        Path f = dir.resolve(name);
        GgufWriter w = new GgufWriter(f);
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("llama.embedding_length", GgufValue.uint32(8));
        w.put("llama.block_count", GgufValue.uint32(blocks));
        w.put("llama.feed_forward_length", GgufValue.uint32(16));
        w.put("llama.attention.head_count", GgufValue.uint32(2));
        w.addTensor("token_embd.weight", new long[]{8, 4}, GgmlType.F32, new byte[128]);
        w.addTensor("blk.0.attn_q.weight", qNe, GgmlType.F32, new byte[(int) (qNe[0] * qNe[1] * 4)]);
        w.finish();
        return f;
    }

    @Test
    void theTensorTableMustMatchTheHyperParameters() throws Exception {
        GgufInferenceBackend b = new GgufInferenceBackend();
        b.load(tinyLlama("ok.gguf", 1, new long[]{8, 8})).close();
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> b.load(tinyLlama("b.gguf", 2, new long[]{8, 8})));
        assertTrue(e.getMessage().contains("llama.block_count is 2 but the file has tensors for 1 blocks"), e.getMessage());
        e = assertThrows(CorruptInputException.class, () -> b.load(tinyLlama("q.gguf", 1, new long[]{8, 6})));
        assertTrue(e.getMessage().contains("tensor blk.0.attn_q.weight has ne [8, 6]"), e.getMessage());
    }
}
