package dev.jround.host.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded queue: order, one taker per job, states, and what survives closing and reopening the file. */
class JobStoreTest {

    @TempDir
    Path state;

    @Test
    void jobsAreTakenOldestFirstOnceEachAndSurviveAReopen() {
        String a;
        String b;
        String c;
        try (JobStore store = JobStore.open(JobStore.h2Url(state))) {
            a = store.add(List.of("--model", "m1"), "/out", 1000).id();
            b = store.add(List.of("--model", "m2"), "/out", 1001).id();
            c = store.add(List.of("--model", "m3"), "/out", 1002).id();
            JobRecord taken = store.claimNext("host-1", 2000).orElseThrow();
            assertEquals(a, taken.id());
            assertEquals(JobState.RUNNING, taken.state());
            assertEquals("host-1", taken.worker());
            assertEquals(2000, taken.startedMs());
            store.plugins(a, Map.of("auto_round", "1.0.0"));
            store.progress(a, 1, 4, "block 1/4 done");
            assertTrue(store.cancelQueued(c, 2100));
            assertFalse(store.cancelQueued(a, 2100), "a running job is not cancelled by the queued-job path");
        }
        try (JobStore store = JobStore.open(JobStore.h2Url(state))) {
            JobRecord ra = store.get(a).orElseThrow();
            assertEquals(JobState.RUNNING, ra.state(), "as the killed host left it");
            assertEquals(Map.of("auto_round", "1.0.0"), ra.plugins());
            assertEquals(1, ra.block());
            assertEquals(4, ra.blocks());
            assertEquals(List.of("--model", "m1"), ra.args());
            assertEquals(JobState.QUEUED, store.get(b).orElseThrow().state());
            assertEquals(JobState.CANCELLED, store.get(c).orElseThrow().state());
            assertEquals(0, store.requeueRunningOf("another-host"));
            assertEquals(1, store.requeueRunningOf("host-1"));
            JobRecord back = store.get(a).orElseThrow();
            assertEquals(JobState.QUEUED, back.state());
            assertEquals(Map.of(), back.plugins());
            assertEquals(a, store.claimNext("host-1", 3000).orElseThrow().id(), "the requeued job keeps its place");
            assertEquals(b, store.claimNext("host-1", 3000).orElseThrow().id());
            assertTrue(store.claimNext("host-1", 3000).isEmpty());
            store.finish(a, JobState.SUCCEEDED, "done", List.of("/out/m1-w4g128"), 4000);
            JobRecord done = store.get(a).orElseThrow();
            assertEquals(List.of("/out/m1-w4g128"), done.outputs());
            assertEquals(4000, done.finishedMs());
            Map<JobState, Long> counts = store.countByState();
            assertEquals(1L, counts.get(JobState.SUCCEEDED));
            assertEquals(1L, counts.get(JobState.RUNNING));
            assertEquals(1L, counts.get(JobState.CANCELLED));
            assertEquals(0L, counts.get(JobState.QUEUED));
            assertEquals(List.of(c, b, a), store.list(10).stream().map(JobRecord::id).toList(), "newest first");
        }
    }

    @Test
    void workersRacingForJobsNeverTakeTheSameOne() throws Exception {
        try (JobStore store = JobStore.open(JobStore.h2Url(state))) {
            for (int i = 0; i < 60; i++) {
                store.add(List.of("--model", "m" + i), "/out", i);
            }
            assertRaceIsClean(List.of(store, store, store, store), 60);
        }
    }

    /** Threads over {@code stores} claim until the queue is empty; every job is taken exactly once. */
    static void assertRaceIsClean(List<JobStore> stores, int jobs) throws InterruptedException {
        Set<String> taken = ConcurrentHashMap.newKeySet();
        List<String> duplicates = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < stores.size(); t++) {
            JobStore s = stores.get(t);
            String worker = "w" + t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (true) {
                    var j = s.claimNext(worker, System.currentTimeMillis());
                    if (j.isEmpty()) {
                        return;
                    }
                    if (!taken.add(j.get().id())) {
                        duplicates.add(j.get().id());
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        go.countDown();
        for (Thread th : threads) {
            th.join(60_000);
        }
        assertEquals(List.of(), duplicates, "jobs taken twice");
        assertEquals(jobs, taken.size(), "every job taken");
    }
}
