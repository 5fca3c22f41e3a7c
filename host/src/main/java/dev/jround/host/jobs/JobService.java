package dev.jround.host.jobs;

import dev.jround.cli.QuantizeCommand;
import dev.jround.kernel.job.BlockPipeline;
import dev.jround.kernel.job.JobCancelledException;
import dev.jround.kernel.job.JobProgress;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.JroundException;
import dev.jround.spi.JroundPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Function;

/**
 * Runs the queue's jobs: {@code concurrency} worker threads take the oldest queued job, freeze the host's plugins for
 * it ({@link RegistrySnapshot}, bundles leased), run it as the CLI would ({@link QuantizationJob} on the request
 * {@link QuantizeCommand#parse} makes of its flags) and record the outcome. docs/host.md describes the states.
 */
public final class JobService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobService.class);
    /** Finished jobs whose events stay readable in memory. */
    private static final int KEPT_EVENT_LOGS = 100;
    static final double[] BLOCK_SECONDS_BUCKETS = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800};

    private final JobStore store;
    private final PluginRegistry live;
    private final Function<Object, Long> bundleOf;
    private final PluginLeases leases;
    private final String worker;
    private final int concurrency;
    private final Duration poll;
    private final Map<String, JobEvents> events = new ConcurrentHashMap<>();
    private final List<String> finishedOrder = new ArrayList<>();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final List<Thread> workers = new ArrayList<>();
    private final Object wakeUp = new Object();
    private volatile boolean stopping;
    private volatile long lastSweep = System.nanoTime();

    private final AtomicLong[] blockBuckets = new AtomicLong[BLOCK_SECONDS_BUCKETS.length + 1];
    private final DoubleAdder blockSecondsSum = new DoubleAdder();

    /**
     * @param live        the host's live registry (what a new job starts with)
     * @param bundleOf    the id of the bundle whose class loader defined an object's class, or null
     * @param worker      this host's name in the queue (stable across restarts of the same state directory)
     * @param poll        how often idle workers look at the queue for jobs other hosts added
     */
    public JobService(JobStore store, PluginRegistry live, Function<Object, Long> bundleOf, PluginLeases leases,
                      String worker, int concurrency, Duration poll) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1");
        }
        this.store = store;
        this.live = live;
        this.bundleOf = bundleOf;
        this.leases = leases;
        this.worker = worker;
        this.concurrency = concurrency;
        this.poll = poll;
        for (int i = 0; i < blockBuckets.length; i++) {
            blockBuckets[i] = new AtomicLong();
        }
    }

    /** Requeues what this host was running when it last stopped, then starts the workers. */
    public synchronized void start() {
        int requeued = store.requeueRunningOf(worker);
        if (requeued > 0) {
            LOG.info("{} job(s) were running when the host last stopped: queued again", requeued);
        }
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(this::work, "jround-job-worker-" + (i + 1));
            t.start();
            workers.add(t);
        }
    }

    public JobStore store() {
        return store;
    }

    public int concurrency() {
        return concurrency;
    }

    /**
     * Validates {@code args} exactly as {@code jround quantize} does and queues the job.
     *
     * @throws dev.jround.spi.InvalidInputException with the CLI's message when the flags are refused
     */
    public JobRecord submit(List<String> args) {
        if (stopping) {
            throw new IllegalStateException("the host is shutting down");
        }
        QuantizeRequest request = QuantizeCommand.parse(args);
        String outputDir = Path.of(request.outputDir()).toAbsolutePath().normalize().toString();
        JobRecord job = store.add(List.copyOf(args), outputDir, System.currentTimeMillis());
        eventsOf(job.id()).publish("state", Map.of("state", JobState.QUEUED.label()));
        LOG.info("job {} queued: {}", job.id(), String.join(" ", args));
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
        return job;
    }

    /** The outcome of {@link #cancel}. */
    public enum CancelOutcome { CANCELLED, CANCELLING, ALREADY_FINISHED, NOT_FOUND }

    /** Cancels a queued job at once; asks a running one to stop (its partial output is removed when it does). */
    public CancelOutcome cancel(String id) {
        Optional<JobRecord> job = store.get(id);
        if (job.isEmpty()) {
            return CancelOutcome.NOT_FOUND;
        }
        if (store.cancelQueued(id, System.currentTimeMillis())) {
            LOG.info("job {} cancelled before it started", id);
            JobEvents log = events.get(id);
            if (log != null) {
                log.close("state", Map.of("state", JobState.CANCELLED.label(), "message", "cancelled before it started"));
                retire(id);
            }
            return CancelOutcome.CANCELLED;
        }
        JobRecord now = store.get(id).orElseThrow();
        if (now.state().terminal()) {
            return CancelOutcome.ALREADY_FINISHED;
        }
        Running r = running.get(id);
        if (r != null) {
            r.cancel = true;
        } else {
            store.requestCancel(id); // running on another host of a shared queue
        }
        LOG.info("job {}: cancel requested", id);
        return CancelOutcome.CANCELLING;
    }

    /** The job's event log in this process, if it has one. */
    public Optional<JobEvents> events(String id) {
        return Optional.ofNullable(events.get(id));
    }

    private JobEvents eventsOf(String id) {
        return events.computeIfAbsent(id, k -> new JobEvents());
    }

    public boolean runsHere(String id) {
        return running.containsKey(id);
    }

    /**
     * Closes the event logs of jobs submitted here that finished elsewhere (another host of a shared queue, or a
     * cancel before they started), so that memory stays bounded over a long run.
     */
    private void closeLogsOfJobsFinishedElsewhere() {
        for (var e : events.entrySet()) {
            String id = e.getKey();
            if (!e.getValue().closed() && !running.containsKey(id)) {
                store.get(id).filter(j -> j.state().terminal()).ifPresent(j -> {
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("state", j.state().label());
                    data.put("message", j.message());
                    data.put("outputs", j.outputs());
                    e.getValue().close("state", data);
                    retire(id);
                });
            }
        }
    }

    public int runningHere() {
        return running.size();
    }

    /** Cumulative block-time histogram: counts per bucket of {@link #BLOCK_SECONDS_BUCKETS} (last: above), and the sum. */
    public long[] blockSecondsCounts() {
        long[] out = new long[blockBuckets.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = blockBuckets[i].get();
        }
        return out;
    }

    public double blockSecondsSum() {
        return blockSecondsSum.sum();
    }

    private void work() {
        while (!stopping) {
            Optional<JobRecord> job;
            try {
                job = store.claimNext(worker, System.currentTimeMillis());
            } catch (RuntimeException e) {
                LOG.error("{}", e.getMessage());
                job = Optional.empty();
            }
            if (job.isEmpty()) {
                long now = System.nanoTime();
                if (now - lastSweep > 10_000_000_000L) {
                    lastSweep = now;
                    try {
                        closeLogsOfJobsFinishedElsewhere();
                    } catch (RuntimeException e) {
                        LOG.warn("{}", e.getMessage());
                    }
                }
                synchronized (wakeUp) {
                    try {
                        wakeUp.wait(poll.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                continue;
            }
            run(job.get());
        }
    }

    private void run(JobRecord job) {
        String id = job.id();
        JobEvents log = eventsOf(id);
        Running r = new Running(id, log);
        running.put(id, r);
        long t0 = System.nanoTime();
        log.publish("state", Map.of("state", JobState.RUNNING.label()));
        LOG.info("job {} started", id);
        RegistrySnapshot plugins = RegistrySnapshot.of(live);
        List<Long> bundles = new ArrayList<>();
        for (JroundPlugin p : plugins.plugins()) {
            bundles.add(bundleOf.apply(p));
        }
        JobState end;
        String message;
        List<String> outputs = List.of();
        try (PluginLeases.Lease lease = leases.acquire(bundles)) {
            r.lease = lease;
            store.plugins(id, plugins.versions());
            QuantizeRequest request = QuantizeCommand.parse(job.args());
            QuantizationJob.Result result = new QuantizationJob(plugins, r).run(request);
            outputs = result.outputs().stream().map(p -> p.toAbsolutePath().normalize().toString()).toList();
            end = JobState.SUCCEEDED;
            message = String.format("done in %.1f s", (System.nanoTime() - t0) / 1e9);
        } catch (JobCancelledException e) {
            if (r.requeue) {
                store.requeue(id, "the host shut down while it ran: queued again");
                log.close("state", Map.of("state", JobState.QUEUED.label(), "message", "the host shut down: queued again"));
                LOG.info("job {} stopped by the shutdown: queued again", id);
                running.remove(id);
                retire(id);
                return;
            }
            end = JobState.CANCELLED;
            message = "cancelled; its partial output was removed";
        } catch (JroundException e) {
            end = JobState.FAILED;
            message = "error: " + e.getMessage() + (e.hint() == null ? "" : " (hint: " + e.hint() + ")");
        } catch (RuntimeException | LinkageError e) {
            end = JobState.FAILED;
            message = "error: " + e;
            LOG.error("job {} failed", id, e);
        }
        store.finish(id, end, message, outputs, System.currentTimeMillis());
        LOG.info("job {} {}: {}", id, end.label(), message);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("state", end.label());
        data.put("message", message);
        data.put("outputs", outputs);
        log.close("state", data);
        running.remove(id);
        retire(id);
    }

    /** Keeps the event logs of the last {@value #KEPT_EVENT_LOGS} finished jobs only. */
    private void retire(String id) {
        synchronized (finishedOrder) {
            finishedOrder.add(id);
            while (finishedOrder.size() > KEPT_EVENT_LOGS) {
                events.remove(finishedOrder.remove(0));
            }
        }
    }

    /** Stops taking jobs, stops the running ones (they go back to the queue) and waits for the workers. */
    @Override
    public void close() {
        stopping = true;
        for (Running r : running.values()) {
            r.requeue = true;
            r.cancel = true;
        }
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
        for (Thread t : workers) {
            try {
                t.join(60_000);
                if (t.isAlive()) {
                    LOG.warn("{} did not stop within 60 s", t.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A job running here: its events, block progress in the queue, the cancel flag. */
    private final class Running implements JobProgress {
        private final String id;
        private final JobEvents log;
        volatile boolean cancel;
        volatile boolean requeue;
        volatile PluginLeases.Lease lease;
        private long lastIterationEvent;
        private long lastCancelPoll;

        Running(String id, JobEvents log) {
            this.id = id;
            this.log = log;
        }

        @Override
        public void message(String line) {
            log.publish("log", Map.of("line", line));
            LOG.debug("job {}: {}", id, line);
        }

        @Override
        public void iteration(int block, int iter, int iters, double loss, double bestLoss) {
            long now = System.nanoTime();
            // at most 4 a second, and always the last one of a block
            if (iter + 1 < iters && now - lastIterationEvent < 250_000_000L) {
                return;
            }
            lastIterationEvent = now;
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("block", block);
            d.put("iter", iter + 1);
            d.put("iters", iters);
            d.put("loss", finite(loss));
            d.put("best_loss", finite(bestLoss));
            log.publish("iteration", d);
        }

        @Override
        public void blockStarted(int block, int blocks) {
            store.progress(id, block, blocks, "block " + (block + 1) + "/" + blocks);
            log.publish("block_started", Map.of("block", block, "blocks", blocks));
        }

        @Override
        public void blockFinished(BlockPipeline.BlockStat stat, int blocks) {
            store.progress(id, stat.block() + 1, blocks, "block " + (stat.block() + 1) + "/" + blocks + " done");
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("block", stat.block());
            d.put("blocks", blocks);
            d.put("layers", stat.layers());
            d.put("loss_before", finite(stat.lossBefore()));
            d.put("loss_after", finite(stat.lossAfter()));
            d.put("best_iter", stat.bestIter());
            d.put("seconds", stat.seconds());
            log.publish("block_finished", d);
            blockSecondsSum.add(stat.seconds());
            int bucket = 0;
            while (bucket < BLOCK_SECONDS_BUCKETS.length && stat.seconds() > BLOCK_SECONDS_BUCKETS[bucket]) {
                bucket++;
            }
            blockBuckets[bucket].incrementAndGet();
        }

        /** From here on only these objects' bundles stay held: a swap of any other plugin applies while the job runs. */
        @Override
        public void pluginsInUse(List<Object> objects) {
            PluginLeases.Lease l = lease;
            if (l == null) {
                return;
            }
            java.util.Set<Long> keep = new java.util.HashSet<>();
            for (Object o : objects) {
                Long b = o == null ? null : bundleOf.apply(o);
                if (b != null) {
                    keep.add(b);
                }
            }
            int before = l.held().size();
            l.retainOnly(keep);
            LOG.debug("job {} holds {} of {} plugin bundles from here on", id, l.held().size(), before);
        }

        @Override
        public boolean cancelRequested() {
            if (cancel) {
                return true;
            }
            long now = System.nanoTime();
            if (now - lastCancelPoll > 1_000_000_000L) {
                lastCancelPoll = now;
                cancel = store.cancelRequested(id);
            }
            return cancel;
        }

        private Object finite(double v) {
            return Double.isFinite(v) ? v : null;
        }
    }
}
