package dev.jround.kernel.job;

import dev.jround.spi.quant.ProgressListener;

import java.util.List;

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
     * The objects the rest of the run still calls into, once the plan is made and the calibration data is read:
     * the exporters, the architecture with its model and weights, the tokenizer, the device backend, the algorithm
     * and the data types of the quantized layers. Every other plugin is done with (a host may let go of it).
     */
    default void pluginsInUse(List<Object> objects) {
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
