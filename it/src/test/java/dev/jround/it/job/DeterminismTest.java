package dev.jround.it.job;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.job.QuantizationJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Issue 5: the same seed gives byte-identical output, another seed a different one (SignRound on the real model).
 *
 * <p>A background thread requests garbage collections throughout the runs. Tuning used to depend on when the
 * collector ran: DJL's scalar overloads ({@code mul(Number)}, {@code clip(Number, Number)}, ...) put the number in a
 * tensor over a Java direct buffer that autograd kept for the backward pass after DJL had released it, so a
 * collection between forward and backward handed the backward freed memory. Collections every 200 ms make that
 * failure show up reliably within one process (it diverged in every trial before the fix) at little cost.
 */
class DeterminismTest {

    @TempDir
    Path out;

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
        Path model = Shared.aidreams();
        String calib = model.resolve("calib.jsonl").toString();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread collector = new Thread(() -> {
            while (running.get()) {
                System.gc();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc-pressure");
        collector.setDaemon(true);
        collector.start();
        byte[] first;
        byte[] second;
        byte[] otherSeed;
        try {
            first = run(model, calib, 42, out.resolve("a"));
            second = run(model, calib, 42, out.resolve("b"));
            otherSeed = run(model, calib, 43, out.resolve("c"));
        } finally {
            running.set(false);
            collector.join();
        }
        assertArrayEquals(first, second, "two runs with seed 42 wrote different model.safetensors");
        assertFalse(java.util.Arrays.equals(first, otherSeed), "seeds 42 and 43 wrote the same model.safetensors");
    }

    private static byte[] run(Path model, String calib, long seed, Path dir) throws IOException {
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).seqlen(128)
                .nsamples(16).iters(20).seed(seed).dataset(calib).build().quantizeAndSave(dir, "fake");
        Path weights;
        try (Stream<Path> files = Files.walk(dir)) {
            weights = files.filter(p -> p.getFileName().toString().equals("model.safetensors")).findFirst()
                    .orElseThrow(() -> new AssertionError("no model.safetensors under " + dir + " (" + result.outputs() + ")"));
        }
        return Files.readAllBytes(weights);
    }
}
