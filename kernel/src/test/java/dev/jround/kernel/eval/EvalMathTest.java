package dev.jround.kernel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine-free parts of evaluation and generation: data windows, statistics, report, sampling. */
class EvalMathTest {

    @TempDir
    Path tmp;

    /** A tokenizer that maps each character to its code and adds BOS 1 with special tokens. */
    static Tokenizer charTokenizer(long bos) {
        return (Tokenizer) Proxy.newProxyInstance(Tokenizer.class.getClassLoader(), new Class<?>[]{Tokenizer.class}, (p, m, a) ->
                switch (m.getName()) {
                    case "encode" -> {
                        String s = (String) a[0];
                        boolean special = (Boolean) a[1] && bos >= 0;
                        long[] r = new long[s.length() + (special ? 1 : 0)];
                        int k = 0;
                        if (special) {
                            r[k++] = bos;
                        }
                        for (char c : s.toCharArray()) {
                            r[k++] = c;
                        }
                        yield r;
                    }
                    case "bosTokenId" -> bos;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void textIsCutIntoBosLedWindows() {
        List<long[]> w = EvalData.windows(charTokenizer(1), "abcdefgh", 4);
        assertEquals(2, w.size());
        assertArrayEquals(new long[]{1, 'a', 'b', 'c'}, w.get(0));
        assertArrayEquals(new long[]{1, 'd', 'e', 'f'}, w.get(1));
        List<long[]> noBos = EvalData.windows(charTokenizer(-1), "abcdefgh", 3);
        assertEquals(2, noBos.size());
        assertArrayEquals(new long[]{'d', 'e', 'f'}, noBos.get(1));
        assertEquals(1, EvalData.windows(charTokenizer(1), "ab", 16).size());
    }

    @Test
    void idFilesAreReadAndCut() throws IOException {
        Path rows = Files.writeString(tmp.resolve("ids.json"), "[[1,2,3,4,5],[6,7],[8]]");
        List<long[]> r = EvalData.load(rows, null, 4);
        assertEquals(2, r.size(), "rows under 2 tokens are dropped");
        assertArrayEquals(new long[]{1, 2, 3, 4}, r.get(0));
        Path flat = Files.writeString(tmp.resolve("flat.json"), "[1,2,3,4,5,6,7]");
        assertEquals(2, EvalData.load(flat, null, 3).size());
        Path bad = Files.writeString(tmp.resolve("bad.json"), "[[1,\"x\"]]");
        assertThrows(CorruptInputException.class, () -> EvalData.load(bad, null, 8));
        Path fraction = Files.writeString(tmp.resolve("fraction.json"), "[[1, 2.5, 3]]");
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> EvalData.load(fraction, null, 8));
        assertTrue(e.getMessage().contains("fraction.json row 0 position 1"), e.getMessage());
        Path text = Files.writeString(tmp.resolve("t.txt"), "hello");
        assertThrows(InvalidInputException.class, () -> EvalData.load(text, null, 8));
        Path jsonl = Files.writeString(tmp.resolve("d.jsonl"), "{\"text\": \"ab\"}\n{\"text\": \"cd\"}\n");
        assertArrayEquals(new long[]{1, 'a', 'b', '\n', '\n', 'c', 'd'}, EvalData.load(jsonl, charTokenizer(1), 0).get(0));
    }

    @Test
    void statisticsFollowTheirFormulas() {
        EvalStats s = new EvalStats();
        s.addCompared(new float[]{1f, 2f}, new float[]{1f, 1f}, new float[]{0.1f, 0.3f}, new boolean[]{true, false},
                new float[]{0.3f, -0.4f});
        s.addCompared(new float[]{3f}, new float[]{1f}, new float[]{0.2f}, new boolean[]{true}, new float[]{0f});
        assertEquals(3, s.tokens());
        assertEquals(Math.exp(2.0), s.perplexity(), 1e-9);
        assertEquals(Math.exp(1.0), s.referencePerplexity(), 1e-9);
        assertEquals(0.2, s.meanKld(), 1e-7);
        assertEquals(0.2, s.kldQuantile(0.5), 1e-7);
        assertEquals(0.3, s.kldQuantile(1.0), 1e-7);
        assertEquals(2.0 / 3, s.top1Agreement(), 1e-12);
        assertEquals(Math.sqrt((0.09 + 0.16) / 3), s.rmsDeltaP(), 1e-7);
    }

    @Test
    void reportIsWrittenAsJsonAndOneTable() throws IOException {
        EvalStats s = new EvalStats();
        s.addCompared(new float[]{1f}, new float[]{0.5f}, new float[]{0.25f}, new boolean[]{true}, new float[]{0.1f});
        EvalReport r = EvalReport.of("cand", "ref", "ids.json", 1, 2, s, 1.5);
        Path out = tmp.resolve("sub/report.json");
        r.write(out);
        JsonNode n = new ObjectMapper().readTree(out.toFile());
        assertEquals(0.25, n.get("mean_kld").asDouble(), 1e-7);
        assertEquals(1.0, n.get("top1_agreement").asDouble());
        assertEquals(Math.E, n.get("perplexity").asDouble(), 1e-6);
        String[] lines = r.table().split("\\R");
        assertEquals(2, lines.length);
        assertTrue(lines[0].contains("mean KLD") && lines[1].contains("0.250000"), r.table());
        EvalStats plain = new EvalStats();
        plain.addNll(new float[]{0f});
        EvalReport p = EvalReport.of("m", null, "d", 1, 2, plain, 0);
        assertFalse(p.toJson().has("mean_kld"));
        assertFalse(p.table().contains("KLD"));
    }

    @Test
    void samplingFiltersAndIsSeeded() {
        float[] logits = {0f, 3f, 1f, 2.9f};
        assertEquals(1, Generator.argmax(logits));
        GenerationOptions topK1 = new GenerationOptions(5, true, 1.0, 1, 1.0, 7);
        for (int i = 0; i < 20; i++) {
            assertEquals(1, Generator.sample(logits, topK1, new Random(i)));
        }
        GenerationOptions nucleus = new GenerationOptions(5, true, 1.0, 0, 0.45, 7);
        for (int i = 0; i < 20; i++) {
            assertEquals(1, Generator.sample(logits, nucleus, new Random(i)), "top token holds 0.48 of the mass: top_p 0.45 keeps only it");
        }
        GenerationOptions pair = new GenerationOptions(5, true, 1.0, 0, 0.5, 7);
        boolean sawSecond = false;
        for (int i = 0; i < 40; i++) {
            int t = Generator.sample(logits, pair, new Random(i));
            assertTrue(t == 1 || t == 3, "top_p 0.5 keeps the two leading tokens");
            sawSecond |= t == 3;
        }
        assertTrue(sawSecond);
        GenerationOptions free = new GenerationOptions(5, true, 1.0, 0, 1.0, 7);
        int[] first = new int[50];
        int[] second = new int[50];
        Random a = new Random(42);
        Random b = new Random(42);
        boolean sawOther = false;
        for (int i = 0; i < 50; i++) {
            first[i] = Generator.sample(logits, free, a);
            second[i] = Generator.sample(logits, free, b);
            sawOther |= first[i] != 1;
        }
        assertArrayEquals(first, second);
        assertTrue(sawOther, "plain sampling must sometimes leave the argmax");
        assertThrows(InvalidInputException.class, () -> new GenerationOptions(5, true, 0, 0, 1, 0));
        assertThrows(InvalidInputException.class, () -> new GenerationOptions(5, false, 1, 0, 1.5, 0));
    }
}
