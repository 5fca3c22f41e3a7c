package dev.jround.plugin.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jround inspect} output through the inference backend. */
class InspectorTest {

    @TempDir
    Path dir;

    @Test
    void printsHeaderTruncatedArraysAndTheTensorTable() throws Exception {
        Path f = dir.resolve("x.gguf");
        GgufWriter w = new GgufWriter(f);
        w.put("general.architecture", GgufValue.string("llama"));
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 100; i++) tokens.add("t" + i);
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        w.put("tokenizer.chat_template", GgufValue.string("x".repeat(500)));
        w.addTensor("blk.0.attn_q.weight", new long[]{32, 2}, GgmlType.Q8_0, new byte[68]);
        w.finish();
        StringWriter s = new StringWriter();
        GgufInferenceBackend b = new GgufInferenceBackend();
        assertTrue(b.inspect(f, new PrintWriter(s), 3));
        String out = s.toString();
        assertTrue(out.contains("GGUF version 3, alignment 32, 3 metadata keys, 1 tensors"), out);
        assertTrue(out.matches("(?s).*ARRAY\\[STRING\\]\\s+100 items \\[\"t0\", \"t1\", \"t2\", \\.\\.\\.\\].*"), out);
        assertTrue(out.contains("...(500 chars)"), out);
        assertTrue(out.matches("(?s).*blk\\.0\\.attn_q\\.weight\\s+Q8_0\\s+\\[32, 2\\]\\s+68\\s+0.*"), out);

        Path notGguf = dir.resolve("y.bin");
        Files.writeString(notGguf, "hello");
        assertFalse(b.canLoad(notGguf));
        assertFalse(b.inspect(notGguf, new PrintWriter(new StringWriter()), 3));
    }
}
