package dev.jround.it.output;

import dev.jround.it.TinyLlama;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10: a quantize killed with SIGKILL at random points, and once between the two renames of the commit,
 * never leaves a complete-looking output, never loses the previous one, never touches anything else, and the
 * next run recovers and succeeds (docs/reliability.md).
 */
class OutputKillTest {

    private static final String MARKER = ".jround-output.json";
    private static final int KILLS = 20;

    @TempDir
    Path tmp;

    private Path model;
    private Path calib;
    private Path out;
    private Path logs;
    private int runs;

    private Process start(List<String> jvmOptions) throws IOException {
        return ChildCli.start(tmp, logs.resolve("run-" + (runs++) + ".log"), jvmOptions, "quantize", "--model", model.toString(),
                "--dataset", calib.toString(), "--nsamples", "8", "--seqlen", "16", "--batch_size", "4", "--iters", "30",
                "--group_size", "32", "--format", "auto_round", "--output_dir", out.toString());
    }

    private String lastLog() throws IOException {
        return Files.readString(logs.resolve("run-" + (runs - 1) + ".log"));
    }

    private int runToEnd(List<String> jvmOptions) throws Exception {
        Process p = start(jvmOptions);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "run finished");
        return p.exitValue();
    }

    @Test
    void killedRunsNeverLeaveAHalfOutputAndTheNextRunRecovers() throws Exception {
        model = TinyLlama.of(32, 64).write(tmp.resolve("models/tiny"), 0f);
        calib = TinyLlama.of(32, 64).writeCalibration(tmp.resolve("models/calib.txt"), 16, 20, 3);
        out = Files.createDirectories(tmp.resolve("out"));
        logs = Files.createDirectories(tmp.resolve("logs"));
        Files.writeString(out.resolve("sentinel.txt"), "not jround's");
        Files.createDirectories(out.resolve("their-model"));
        Files.writeString(out.resolve("their-model/weights.bin"), "precious");
        Map<String, String> inputs = ChildCli.tree(tmp.resolve("models"));

        long t0 = System.nanoTime();
        assertEquals(0, runToEnd(List.of()), this::safeLog);
        long runMillis = (System.nanoTime() - t0) / 1_000_000;
        Path run;
        try (Stream<Path> s = Files.list(out)) {
            run = s.filter(p -> p.getFileName().toString().startsWith("tiny-")).findFirst().orElseThrow();
        }
        Map<String, String> reference = withoutMarker(ChildCli.tree(run));
        assertTrue(reference.containsKey("model.safetensors"), reference.toString());
        Set<String> allowed = Set.of("sentinel.txt", "their-model", run.getFileName().toString(),
                run.getFileName() + ".partial", run.getFileName() + ".old");

        Random delays = new Random(20240610L);
        int completed = 0;
        int partialLeft = 0;
        for (int i = 0; i < KILLS; i++) {
            long delay = (long) (delays.nextDouble() * runMillis);
            Process p = start(List.of());
            if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
            }
            p.waitFor(30, TimeUnit.SECONDS);
            completed += p.exitValue() == 0 ? 1 : 0;
            String when = "kill " + i + " after " + delay + " ms of ~" + runMillis;
            assertSafe(run, reference, allowed, inputs, when);
            partialLeft += Files.exists(run.resolveSibling(run.getFileName() + ".partial")) ? 1 : 0;
            if (i % 5 == 4) {
                assertEquals(0, runToEnd(List.of()), () -> when + ", next run: " + safeLog());
                assertClean(run, reference, when);
            }
        }

        // killed exactly between the two renames: the previous output is at <run>.old, the new one complete in <run>.partial
        assertEquals(137, runToEnd(List.of("-Djround.test.haltAfter=first-rename")), this::safeLog);
        assertFalse(Files.exists(run), "between the renames the final directory is absent");
        assertTrue(Files.isRegularFile(run.resolveSibling(run.getFileName() + ".old").resolve(MARKER)));
        assertTrue(Files.readString(run.resolveSibling(run.getFileName() + ".partial").resolve(MARKER)).contains("\"complete\""));
        assertSafe(run, reference, allowed, inputs, "halt between renames");
        assertEquals(0, runToEnd(List.of()), this::safeLog);
        assertTrue(lastLog().contains("recovered " + run.toAbsolutePath()), lastLog());
        assertClean(run, reference, "after the halt");
        assertEquals(inputs, ChildCli.tree(tmp.resolve("models")));
        System.out.printf("OutputKillTest: %d runs, one run %d ms; of %d kills %d came after the run finished, %d left a <run>.partial%n",
                runs, runMillis, KILLS, completed, partialLeft);
    }

    private String safeLog() {
        try {
            return lastLog();
        } catch (IOException e) {
            return e.toString();
        }
    }

    private void assertSafe(Path run, Map<String, String> reference, Set<String> allowed, Map<String, String> inputs, String when)
            throws IOException {
        assertEquals(inputs, ChildCli.tree(tmp.resolve("models")), when + ": inputs changed");
        assertEquals("not jround's", Files.readString(out.resolve("sentinel.txt")), when);
        assertEquals("precious", Files.readString(out.resolve("their-model/weights.bin")), when);
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.toList()) {
                assertTrue(allowed.contains(p.getFileName().toString()), when + ": unexpected " + p);
            }
        }
        Path old = run.resolveSibling(run.getFileName() + ".old");
        // the previous output is never lost: in place, or at <run>.old for the next run to restore
        assertTrue(Files.exists(run) || Files.isRegularFile(old.resolve(MARKER)), when + ": no output and no <run>.old");
        if (Files.exists(run)) {
            // whatever carries the final name is complete
            assertTrue(Files.readString(run.resolve(MARKER)).contains("\"complete\""), when);
            assertEquals(reference, withoutMarker(ChildCli.tree(run)), when + ": the final directory differs from a complete output");
        }
    }

    private void assertClean(Path run, Map<String, String> reference, String when) throws IOException {
        assertFalse(Files.exists(run.resolveSibling(run.getFileName() + ".partial")), when);
        assertFalse(Files.exists(run.resolveSibling(run.getFileName() + ".old")), when);
        assertEquals(reference, withoutMarker(ChildCli.tree(run)), when);
    }

    private static Map<String, String> withoutMarker(Map<String, String> tree) {
        tree.remove(MARKER);
        return tree;
    }
}
