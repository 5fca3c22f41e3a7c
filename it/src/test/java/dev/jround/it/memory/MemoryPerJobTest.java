package dev.jround.it.memory;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16 item 2: many jobs in one JVM must not leave DJL resources behind. Counts the managers and arrays still
 * attached under the PyTorch engine's system manager after each SignRound and RTN job of {@link TinyLlama#SMALL},
 * and prints heap after GC and RSS per job. {@code -Djround.memJobs=N} runs more jobs (the harness of
 * docs/benchmarks.md, "Memory per job").
 */
class MemoryPerJobTest {

    @TempDir
    Path dir;

    @Test
    void liveDjlResourcesDoNotGrowWithJobs() throws Exception {
        int jobs = Integer.getInteger("jround.memJobs", 6);
        String other = System.getProperty("jround.memModel"); // harness: another model dir holding calib.jsonl
        Path model = other != null ? Path.of(other) : TinyLlama.SMALL.write(dir.resolve("model"), 0.01f);
        Path calib = other != null ? model.resolve("calib.jsonl")
                : TinyLlama.SMALL.writeCalibration(dir.resolve("calib.jsonl"), 16, 40, 7);
        int iters = Integer.getInteger("jround.memIters", 3);
        int samples = Integer.getInteger("jround.memSamples", 8);
        int seqlen = Integer.getInteger("jround.memSeqlen", 32);
        probeSeesAnOpenManager();
        int afterFirst = -1;
        int last = -1;
        long heapAfterSecond = -1;
        long lastHeap = -1;
        for (int j = 0; j < jobs; j++) {
            boolean signRound = j % 2 == 0;
            Path out = dir.resolve("out" + j);
            AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).seqlen(seqlen).nsamples(samples)
                    .iters(signRound ? iters : 0).seed(42).dataset(calib.toString()).build().quantizeAndSave(out, System.getProperty("jround.memFormat", "fake"));
            deleteTree(out);
            long heap = heapAfterGc();
            int live = liveDjlResources();
            System.out.printf("memory-per-job %d %s: heap after GC %.1f MB, live DJL resources %d, RSS %.1f MB%n",
                    j + 1, signRound ? "signround" : "rtn", heap / 1e6, live, rssBytes() / 1e6);
            if (Boolean.getBoolean("jround.memNmt") && (j == 1 || j == jobs - 1)) {
                System.out.println(nativeMemorySummary());
            }
            if (j == 1) {
                afterFirst = live;
                heapAfterSecond = heap;
            }
            last = live;
            lastHeap = heap;
        }
        // a leak of one manager per job gives afterFirst + jobs - 2 or more
        assertTrue(last <= afterFirst, "live DJL resources grew from " + afterFirst + " after 2 jobs to " + last
                + " after " + jobs + ": something on the job path keeps an NDManager or NDArray open");
        // a per-job Java leak shows here; 4 MB is far above the collector's noise of ~0.5 MB seen between jobs
        assertTrue(lastHeap - heapAfterSecond < 4_000_000L, String.format(
                "heap after GC grew from %.1f MB after 2 jobs to %.1f MB after %d", heapAfterSecond / 1e6, lastHeap / 1e6, jobs));
    }

    /** The count is not blind: one open manager holding one array shows as two more resources. */
    private static void probeSeesAnOpenManager() throws ReflectiveOperationException {
        int before = liveDjlResources();
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            m.create(new float[]{1f, 2f});
            int open = liveDjlResources();
            assertTrue(open >= before + 2, "resource count saw " + before + " -> " + open + " for an open manager with an array");
        }
    }

    /** Managers and arrays attached, transitively, under the PyTorch engine's system manager. */
    static int liveDjlResources() throws ReflectiveOperationException {
        NDManager probe = Engine.getEngine("PyTorch").newBaseManager();
        NDManager system = probe.getParentManager();
        probe.close();
        return count(system) - 1;
    }

    private static int count(NDManager manager) throws ReflectiveOperationException {
        Field f = BaseNDManager.class.getDeclaredField("resources");
        f.setAccessible(true);
        int n = 1;
        for (AutoCloseable r : ((Map<?, AutoCloseable>) f.get(manager)).values()) {
            n += r instanceof NDManager m ? count(m) : 1;
        }
        return n;
    }

    /** The JVM's own native memory by category; needs -XX:NativeMemoryTracking=summary. */
    private static String nativeMemorySummary() throws Exception {
        var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        var name = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
        return (String) server.invoke(name, "vmNativeMemory", new Object[]{new String[]{"summary"}},
                new String[]{String[].class.getName()});
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return -1;
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
