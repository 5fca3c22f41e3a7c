package dev.jround.spi.quant;

/** Receives progress from long-running work; the CLI draws bars, a host logs. */
public interface ProgressListener {

    ProgressListener NONE = new ProgressListener() {
    };

    /** One tuning iteration of a block finished. */
    default void iteration(int block, int iter, int iters, double loss, double bestLoss) {
    }

    /** A free-form status line (e.g. "block 3/32: loss 0.012 -> 0.004 in 12.3 s"). */
    default void message(String line) {
    }
}
