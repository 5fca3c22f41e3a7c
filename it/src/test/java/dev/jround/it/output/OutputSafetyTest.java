package dev.jround.it.output;

import dev.jround.it.TinyLlama;

import dev.jround.cli.JroundCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10's data-loss reproductions for quantize, on a tiny synthetic Llama (docs/reliability.md). */
class OutputSafetyTest {

    @TempDir
    Path tmp;

    private static int cli(StringWriter err, String... args) {
        return JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
    }

    /** {@code jround quantize --model . --format gguf:q4_k_m --output_dir DIR} used to write into DIR itself, deleting it. */
    @Test
    void aModelPathOfDotsWritesAFreshChildOfTheOutputDir() throws Exception {
        Path model = TinyLlama.of(32, 64).write(tmp.resolve("tiny"), 0f);
        // GGUF describes SentencePiece or BPE vocabularies only: the same words as a merge-less BPE model
        Path tj = model.resolve("tokenizer.json");
        Files.writeString(tj, Files.readString(tj).replace("\"type\": \"WordLevel\",", "\"type\": \"BPE\", \"merges\": [],"));
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        Files.writeString(dir.resolve("sentinel.txt"), "mine");
        Files.createDirectories(dir.resolve("older-run"));
        Files.writeString(dir.resolve("older-run/model.safetensors"), "weights");
        Map<String, String> before = ChildCli.tree(dir);
        Map<String, String> modelBefore = ChildCli.tree(model);
        Path log = tmp.resolve("quantize.log");
        Process p = ChildCli.start(model, log, List.of(), "quantize", "--model", ".", "--format", "gguf:q4_k_m",
                "--iters", "0", "--disable_opt_rtn", "--output_dir", dir.toString());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(log));
        Map<String, String> after = ChildCli.tree(dir);
        after.keySet().removeIf(k -> k.startsWith("tiny-gguf"));
        assertEquals(before, after, "everything that was in --output_dir is still there");
        try (Stream<Path> s = Files.list(dir.resolve("tiny-gguf"))) {
            assertTrue(s.anyMatch(f -> f.toString().endsWith(".gguf")), "the run directory is named after the model directory");
        }
        assertEquals(modelBefore, ChildCli.tree(model));
    }

    @Test
    void anOutputInsideTheModelOrOverAForeignDirectoryIsRefusedBeforeAnyWork() throws IOException {
        Path model = TinyLlama.of(32, 64).write(tmp.resolve("tiny"), 0f);
        Map<String, String> modelBefore = ChildCli.tree(model);
        // --model . --output_dir . run from inside the model: the run directory would be inside the input
        StringWriter err = new StringWriter();
        int code = cli(err, "quantize", "--model", model + "/.", "--iters", "0", "--disable_opt_rtn", "--format", "fake",
                "--output_dir", model + "/.");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().startsWith("error: output directory"), err.toString());
        assertTrue(err.toString().contains("is inside the input"), err.toString());
        assertEquals(modelBefore, ChildCli.tree(model));

        // a directory that happens to have the run's name but was not written by jround is never replaced
        Path out = tmp.resolve("out");
        Path theirs = Files.createDirectories(out.resolve("tiny-w4g32"));
        Files.writeString(theirs.resolve("notes.txt"), "keep");
        err = new StringWriter();
        code = cli(err, "quantize", "--model", model.toString(), "--iters", "0", "--disable_opt_rtn", "--group_size", "32",
                "--format", "fake", "--output_dir", out.toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("was not written by jround"), err.toString());
        assertEquals(Map.of("", "dir", "notes.txt", ChildCli.sha256(theirs.resolve("notes.txt"))), ChildCli.tree(theirs));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(theirs), s.toList(), "no partial directory was even created");
        }
    }
}
