package dev.jround.kernel.job;

import dev.jround.spi.quant.ProgressListener;

/**
 * A {@link ProgressListener} that also hears block boundaries and can stop the job; the host's job API
 * (docs/host.md) streams these as events and cancels through {@link #cancelRequested()}.
 */
public interface JobProgress extends ProgressListener {

    /** Block {@code block} (0-based) of {@code blocks} starts. */
    default void blockStarted(int block, int blocks) {
    }

    /** Block {@code stat.block()} of {@code blocks} is done and its layers went to the exports. */
    default void blockFinished(BlockPipeline.BlockStat stat, int blocks) {
    }

    /**
     * True once the job should stop. Checked between stages, before every block and after every tuning
     * iteration; the job then ends with {@link JobCancelledException} and its partial output is discarded.
     */
    default boolean cancelRequested() {
        return false;
    }

    /** Throws {@link JobCancelledException} if {@code progress} asks to stop. */
    static void checkCancelled(ProgressListener progress) {
        if (progress instanceof JobProgress p && p.cancelRequested()) {
            throw new JobCancelledException();
        }
    }
}
