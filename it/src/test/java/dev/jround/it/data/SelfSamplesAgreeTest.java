package dev.jround.it.data;

import dev.jround.cli.JroundCli;
import dev.jround.it.TinyLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code jround dataset ... self:} shows the samples {@code quantize} calibrates on: both use the kernel's one model
 * sampler, so the calibration summaries (token counts, distinct ids) agree line for line.
 */
class SelfSamplesAgreeTest {

    @TempDir
    Path tmp;

    @Test
    void datasetCommandAndQuantizeDrawTheSameSelfSamples() throws IOException {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        StringWriter shown = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(shown, true), new PrintWriter(new StringWriter(), true), "dataset",
                "--model", model.toString(), "--dataset", "self:num=6", "--seqlen", "24", "--nsamples", "6");
        assertEquals(0, code, shown.toString());
        StringWriter log = new StringWriter();
        code = JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(log, true), "quantize",
                "--model", model.toString(), "--dataset", "self:num=6", "--seqlen", "24", "--nsamples", "6",
                "--group_size", "32", "--iters", "1", "--output_dir", tmp.resolve("out").toString());
        assertEquals(0, code, log.toString());
        List<String> a = summary(shown.toString());
        List<String> b = summary(log.toString());
        assertFalse(a.isEmpty(), shown.toString());
        assertEquals(a, b);
    }

    /** The summary line with the token statistics of the samples. */
    private static List<String> summary(String text) {
        return text.lines().map(String::strip).filter(l -> l.contains("distinct ids")).toList();
    }
}
