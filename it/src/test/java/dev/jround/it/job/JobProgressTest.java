package dev.jround.it.job;

import dev.jround.it.TinyLlama;
import dev.jround.kernel.job.BlockPipeline;
import dev.jround.kernel.job.JobCancelledException;
import dev.jround.kernel.job.JobProgress;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel's job hooks the host builds on (docs/host.md): block events in order, and a cancel that commits nothing. */
class JobProgressTest {

    @TempDir
    Path tmp;

    QuantizeRequest request(Path model, Path calib, Path out, int iters) {
        return QuantizeRequest.builder().model(model.toString()).scheme("W4A16").groupSize(32).dataset(calib.toString())
                .nsamples(8).seqlen(16).batchSize(4).iters(iters).formats("auto_round").outputDir(out.toString()).build();
    }

    @Test
    void blockEventsArriveInOrderAroundTheBlockLines() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("m/tiny"), 0f);
        Path calib = TinyLlama.SMALL.writeCalibration(tmp.resolve("m/calib.txt"), 16, 20, 3);
        List<String> seen = new ArrayList<>();
        JobProgress progress = new JobProgress() {
            @Override
            public void blockStarted(int block, int blocks) {
                seen.add("started " + block + "/" + blocks);
            }

            @Override
            public void blockFinished(BlockPipeline.BlockStat stat, int blocks) {
                assertTrue(Double.isFinite(stat.lossAfter()) && stat.layers() == 7, stat.toString());
                seen.add("finished " + stat.block() + "/" + blocks);
            }

            @Override
            public void pluginsInUse(List<Object> objects) {
                assertTrue(objects.stream().anyMatch(o -> o instanceof dev.jround.spi.export.Exporter), objects.toString());
                assertTrue(objects.stream().anyMatch(o -> o instanceof dev.jround.spi.device.DeviceBackend), objects.toString());
                assertTrue(objects.stream().anyMatch(o -> o instanceof dev.jround.spi.quant.QuantAlgorithm), objects.toString());
                assertTrue(objects.stream().noneMatch(o -> o instanceof dev.jround.spi.data.DatasetProvider), "calibration is over");
                seen.add("in use");
            }

            @Override
            public void message(String line) {
                if (line.startsWith("block ")) {
                    seen.add(line.substring(0, line.indexOf(':')));
                }
            }
        };
        new QuantizationJob(new ServiceLoaderRegistry(getClass().getClassLoader()), progress)
                .run(request(model, calib, tmp.resolve("out"), 5));
        assertEquals(List.of("in use", "started 0/2", "block 1/2", "finished 0/2", "started 1/2", "block 2/2", "finished 1/2"), seen);
    }

    @Test
    void aCancelDuringTuningEndsTheRunAndRemovesThePartialOutputOnly() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("m/tiny"), 0f);
        Path calib = TinyLlama.SMALL.writeCalibration(tmp.resolve("m/calib.txt"), 16, 20, 3);
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path sentinel = Files.writeString(out.resolve("keep.txt"), "mine");
        int[] iterations = {0};
        JobProgress cancelInBlockTwo = new JobProgress() {
            int block = -1;

            @Override
            public void blockStarted(int b, int blocks) {
                block = b;
            }

            @Override
            public void iteration(int b, int iter, int iters, double loss, double bestLoss) {
                iterations[0]++;
            }

            @Override
            public boolean cancelRequested() {
                return block == 1 && iterations[0] > 3 + 50;
            }
        };
        assertThrows(JobCancelledException.class, () -> new QuantizationJob(
                new ServiceLoaderRegistry(getClass().getClassLoader()), cancelInBlockTwo).run(request(model, calib, out, 50)));
        assertEquals(54, iterations[0], "stopped right after the iteration that asked (block 1 ran its 50)");
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(sentinel), s.toList(), "no run directory, no partial: only what was there");
        }
    }
}
