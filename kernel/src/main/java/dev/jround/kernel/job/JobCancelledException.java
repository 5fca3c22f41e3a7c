package dev.jround.kernel.job;

import dev.jround.spi.JroundException;

/** A job stopped because its {@link JobProgress} asked to; nothing was committed. */
public final class JobCancelledException extends JroundException {

    public JobCancelledException() {
        super("the job was cancelled", "its partial output was removed; submit it again to rerun");
    }
}
