package dev.jround.it.host;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.host.jobs.JobState;
import dev.jround.host.jobs.JobStore;
import dev.jround.it.TinyLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15, the shared queue: hosts on one PostgreSQL database ({@code --queue jdbc:postgresql://...}) each take
 * jobs and never the same one. Needs a server ({@link PostgresServer}); skipped with the reason without one.
 */
class SharedQueueTest {

    static final String TOKEN = "pg-token-" + Long.toHexString(System.nanoTime());

    @TempDir
    static Path tmp;
    static PostgresServer pg;

    @BeforeAll
    static void server() throws Exception {
        pg = PostgresServer.startOrSkip();
        pg.clearQueue();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void twoStoresRacingForJobsTakeEachOnce() throws Exception {
        try (JobStore a = JobStore.open(pg.url); JobStore b = JobStore.open(pg.url)) {
            try (var c = java.sql.DriverManager.getConnection(pg.url); var s = c.createStatement()) {
                s.execute("DELETE FROM jround_jobs");
            }
            for (int i = 0; i < 80; i++) {
                (i % 2 == 0 ? a : b).add(List.of("--model", "m" + i), "/out", i);
            }
            Set<String> taken = ConcurrentHashMap.newKeySet();
            List<String> twice = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (JobStore s : List.of(a, b, a, b)) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (var j = s.claimNext("w", 0); j.isPresent(); j = s.claimNext("w", 0)) {
                        if (!taken.add(j.get().id())) {
                            twice.add(j.get().id());
                        }
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            for (Thread t : threads) {
                t.join(60_000);
            }
            assertEquals(List.of(), twice, "jobs taken twice");
            assertEquals(80, taken.size());
            assertEquals(80L, b.countByState().get(JobState.RUNNING));
            String one = taken.iterator().next();
            a.requestCancel(one);
            assertTrue(b.cancelRequested(one), "a cancel set through one host is seen by the other");
            try (var c = java.sql.DriverManager.getConnection(pg.url); var s = c.createStatement()) {
                s.execute("DELETE FROM jround_jobs");
            }
        }
    }

    @Test
    void twoHostsOnOneQueueEachTakeJobsAndNeverTheSameOne() throws Exception {
        Path plugins = tmp.resolve("plugins");
        ChildHost.copyPlugins(plugins);
        Path model = TinyLlama.SMALL.write(tmp.resolve("models/tiny"), 0f);
        Path calib = TinyLlama.SMALL.writeCalibration(tmp.resolve("models/calib.txt"), 16, 20, 3);
        try (ChildHost a = ChildHost.start(plugins, tmp.resolve("state-a"), tmp.resolve("logs/a.log"), TOKEN, "--queue", pg.url);
             ChildHost b = ChildHost.start(plugins, tmp.resolve("state-b"), tmp.resolve("logs/b.log"), TOKEN, "--queue", pg.url)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(a.submit(List.of("--model", model.toString(), "--scheme", "W4A16", "--group_size", "32",
                        "--dataset", calib.toString(), "--nsamples", "8", "--seqlen", "16", "--batch_size", "4",
                        "--iters", "60", "--format", "auto_round", "--output_dir", tmp.resolve("out/" + i).toString())));
            }
            Set<String> workers = new HashSet<>();
            for (String id : ids) {
                JsonNode job = b.awaitFinal(id, Duration.ofSeconds(300)); // B sees A's submissions: one queue
                assertEquals("succeeded", job.get("state").asText(), job.toString());
                workers.add(job.get("worker").asText());
                assertTrue(Files.isDirectory(Path.of(job.get("outputs").get(0).asText())));
            }
            assertEquals(2, workers.size(), "both hosts took jobs: " + workers);
            String logs = Files.readString(a.log) + Files.readString(b.log);
            for (String id : ids) {
                Matcher m = Pattern.compile("job " + id + " started").matcher(logs);
                int starts = 0;
                while (m.find()) {
                    starts++;
                }
                assertEquals(1, starts, "job " + id + " ran once, on one host");
            }
        }
    }
}
