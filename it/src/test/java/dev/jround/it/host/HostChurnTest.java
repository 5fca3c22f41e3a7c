package dev.jround.it.host;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.it.TinyLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15, hot swap under load: a format plugin (GGUF) is installed, updated and uninstalled over and over while
 * jobs that export another format (auto_round) run one after another. Every job succeeds, every change is applied
 * while they run, the log has no stack trace, and the churned bundles' class loaders are collected.
 * {@code -Djround.test.churnCycles=200} runs the full count (about half a second per change); the default
 * keeps the build short.
 */
class HostChurnTest {

    static final String TOKEN = "churn-" + Long.toHexString(System.nanoTime());
    static final int CYCLES = Integer.getInteger("jround.test.churnCycles", 20);

    @TempDir
    Path tmp;

    @Test
    void aFormatPluginChurnsWhileJobsOfAnotherFormatRun() throws Exception {
        Path plugins = tmp.resolve("plugins");
        ChildHost.copyPlugins(plugins);
        Path gguf = plugins.resolve("jround-plugin-export-gguf-1.0.0.jar");
        Path pristine = Files.copy(gguf, tmp.resolve("gguf.jar"));
        Path model = TinyLlama.SMALL.write(tmp.resolve("models/tiny"), 0f);
        Path calib = TinyLlama.SMALL.writeCalibration(tmp.resolve("models/calib.txt"), 16, 20, 3);
        Path churned = plugins.resolve("churn-gguf.jar");
        try (ChildHost host = ChildHost.start(plugins, tmp.resolve("state"), tmp.resolve("logs/host.log"), TOKEN)) {
            List<String> finished = new CopyOnWriteArrayList<>();
            List<String> failures = new CopyOnWriteArrayList<>();
            AtomicBoolean churning = new AtomicBoolean(true);
            Thread jobs = new Thread(() -> {
                int n = 0;
                while (churning.get()) {
                    try {
                        String id = host.submit(List.of("--model", model.toString(), "--scheme", "W4A16", "--group_size", "32",
                                "--dataset", calib.toString(), "--nsamples", "8", "--seqlen", "16", "--batch_size", "4",
                                "--iters", "20", "--format", "auto_round", "--output_dir", tmp.resolve("out/" + (n++ % 3)).toString()));
                        JsonNode j = host.awaitFinal(id, Duration.ofSeconds(300));
                        (j.get("state").asText().equals("succeeded") ? finished : failures).add(id + " " + j.get("message").asText());
                    } catch (Exception e) {
                        failures.add(e.toString());
                        return;
                    }
                }
            });
            jobs.start();
            cycle(host, pristine, churned, 100); // warm-up: first install, update and removal paths loaded
            long[] before = afterGc(host);
            int changesDuringJobs = 0;
            for (int c = 1; c <= CYCLES; c++) {
                changesDuringJobs += cycle(host, pristine, churned, 100 + c);
            }
            long[] after = afterGc(host);
            churning.set(false);
            jobs.join(300_000);
            assertEquals(List.of(), failures);
            assertTrue(finished.size() >= 2, "jobs ran during the churn: " + finished.size());
            assertTrue(changesDuringJobs > CYCLES, "changes were applied while jobs ran: " + changesDuringJobs);
            String log = Files.readString(host.log);
            assertFalse(log.contains("Exception") || log.contains("\tat "), "no stack trace in the log");
            System.out.printf("churn: %d cycles, %d jobs, RSS after GC %.1f MB -> %.1f MB (%+.1f MB), bundle class loaders %d -> %d%n",
                    CYCLES, finished.size(), before[0] / 1e6, after[0] / 1e6, (after[0] - before[0]) / 1e6, before[1], after[1]);
            // every churned revision's class loader is collected (RSS is printed, not bounded: see docs/host.md)
            assertTrue(after[1] <= before[1] + 1, "bundle class loaders " + before[1] + " -> " + after[1]);
        }
    }

    /**
     * Installs the GGUF plugin as version 1.{n}.0 under another file name (it then wins over 1.0.0), updates it in place
     * to 1.{n}.1, removes it; each step awaited in /v1/plugins. Returns how many of the three happened while a job ran.
     */
    static int cycle(ChildHost host, Path pristine, Path target, int n) throws Exception {
        int duringJobs = 0;
        Files.copy(pristine, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        HostJobApiTest.reversion(target, "1." + n + ".0");
        duringJobs += await(host, "1." + n + ".0");
        HostJobApiTest.reversion(target, "1." + n + ".1");
        duringJobs += await(host, "1." + n + ".1");
        Files.delete(target);
        duringJobs += await(host, "1.0.0");
        return duringJobs;
    }

    /** Waits until the active GGUF exporter has {@code version}; 1 when a job was running at that moment. */
    static int await(ChildHost host, String version) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            for (JsonNode p : host.get("/v1/plugins")) {
                if (p.get("kind").asText().equals("exporter") && p.get("id").asText().equals("gguf") && p.get("active").asBoolean()
                        && p.get("version").asText().equals(version)) {
                    return host.get("/v1/health").get("running").asInt() > 0 ? 1 : 0;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gguf " + version + " not active after 60 s: " + host.get("/v1/plugins"));
            }
            Thread.sleep(50);
        }
    }

    /** After a full collection ({@code jcmd PID GC.run}, twice): the child's VmRSS and how many bundle class loaders live. */
    static long[] afterGc(ChildHost host) throws Exception {
        jcmd(host, "GC.run");
        jcmd(host, "GC.run");
        Thread.sleep(500);
        long loaders = jcmd(host, "VM.classloader_stats").lines().filter(l -> l.contains("BundleClassLoader")).count();
        for (String line : Files.readAllLines(Path.of("/proc/" + host.process.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return new long[]{Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024, loaders};
            }
        }
        throw new IllegalStateException("no VmRSS for " + host.process.pid());
    }

    static String jcmd(ChildHost host, String command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(host.process.pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
