package dev.jround.cli;

import dev.jround.spi.quant.ProgressListener;

import java.io.PrintWriter;

/**
 * Draws a one-line progress bar per block on a terminal (redrawn with carriage returns) and prints
 * block summaries as plain lines; without a terminal it prints only the summaries.
 */
final class ConsoleProgress implements ProgressListener {

    private final PrintWriter err;
    private final boolean terminal = System.console() != null;
    private long lastDraw;
    private boolean barOpen;

    ConsoleProgress(PrintWriter err) {
        this.err = err;
    }

    @Override
    public synchronized void iteration(int block, int iter, int iters, double loss, double bestLoss) {
        if (!terminal) {
            return;
        }
        long now = System.nanoTime();
        if (iter + 1 < iters && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        int width = 30;
        int filled = (int) ((long) width * (iter + 1) / Math.max(1, iters));
        err.printf("\rblock %d [%s%s] %d/%d loss %.5g best %.5g", block + 1, "=".repeat(filled), " ".repeat(width - filled),
                iter + 1, iters, loss, bestLoss);
        err.flush();
        barOpen = true;
    }

    @Override
    public synchronized void message(String line) {
        if (barOpen) {
            err.print("\r\033[K");
            barOpen = false;
        }
        err.println(line);
        err.flush();
    }
}
