package dev.jround.it;

/**
 * A background thread that requests a garbage collection every 200 ms while open. Reproducibility tests run under it:
 * tuning that hands autograd memory the collector may free (DJL's {@code Number} overloads, see
 * docs/reliability.md) then gives different bytes within one process instead of only now and then.
 */
public final class GcPressure implements AutoCloseable {

    private final Thread thread;
    private volatile boolean running = true;

    public GcPressure() {
        thread = new Thread(() -> {
            while (running) {
                System.gc();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc-pressure");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }
}
