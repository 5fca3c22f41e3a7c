package dev.jround.lib.hub;

import java.io.PrintStream;
import java.util.Locale;

/** Receives the progress of file downloads and their warnings; {@link #console()} draws a bar on stderr. */
public interface DownloadProgress {

    /** A download of {@code file} starts (or resumes at {@code alreadyHave}); {@code total} is -1 when unknown. */
    void start(String file, long total, long alreadyHave);

    /** {@code bytes} more bytes arrived. */
    void advance(long bytes);

    /** The current file is complete (or abandoned). */
    void finish();

    /**
     * One line the user must see about a finished file, e.g. that nothing could verify it. The default prints it
     * on stderr, so an implementation that only cares about progress loses no warning; {@link #NONE} drops it.
     */
    default void warning(String line) {
        System.err.println("warning: " + line);
    }

    DownloadProgress NONE = new DownloadProgress() {
        @Override
        public void start(String file, long total, long alreadyHave) {
        }

        @Override
        public void advance(long bytes) {
        }

        @Override
        public void finish() {
        }

        @Override
        public void warning(String line) {
        }
    };

    /**
     * A bar on stderr redrawn in place with carriage returns when the process talks to a terminal; otherwise
     * one line per finished file, so logs are not flooded.
     */
    static DownloadProgress console() {
        return new Console(System.err, System.console() != null && !"dumb".equals(System.getenv("TERM")));
    }

    /** Text progress: a redrawn bar ({@code interactive}) or one summary line per file. */
    final class Console implements DownloadProgress {
        private static final long REDRAW_NANOS = 100_000_000L;

        private final PrintStream out;
        private final boolean interactive;
        private String file;
        private long total;
        private long done;
        private long resumedFrom;
        private long startNanos;
        private long lastDraw;

        public Console(PrintStream out, boolean interactive) {
            this.out = out;
            this.interactive = interactive;
        }

        @Override
        public synchronized void start(String file, long total, long alreadyHave) {
            this.file = file;
            this.total = total;
            this.done = alreadyHave;
            this.resumedFrom = alreadyHave;
            this.startNanos = System.nanoTime();
            this.lastDraw = 0;
            if (interactive) {
                draw();
            }
        }

        @Override
        public synchronized void advance(long bytes) {
            done += bytes;
            long now = System.nanoTime();
            if (interactive && now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                draw();
            }
        }

        @Override
        public synchronized void finish() {
            if (file == null) {
                return;
            }
            if (interactive) {
                draw();
                out.print('\n');
            } else {
                double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
                out.printf(Locale.ROOT, "downloaded %s (%s%s, %s/s)%n", file, size(done),
                        resumedFrom > 0 ? ", resumed at " + size(resumedFrom) : "", size((long) ((done - resumedFrom) / seconds)));
            }
            out.flush();
            file = null;
        }

        @Override
        public synchronized void warning(String line) {
            out.println("warning: " + line);
            out.flush();
        }

        private void draw() {
            double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
            String rate = size((long) ((done - resumedFrom) / seconds)) + "/s";
            String line;
            if (total > 0) {
                int width = 30;
                int filled = (int) Math.min(width, done * width / total);
                line = String.format(Locale.ROOT, "%s [%s%s] %3d%% %s/%s %s", file, "#".repeat(filled), " ".repeat(width - filled),
                        done * 100 / total, size(done), size(total), rate);
            } else {
                line = String.format(Locale.ROOT, "%s %s %s", file, size(done), rate);
            }
            out.print("\r" + line + "\u001b[K");
            out.flush();
        }

        static String size(long bytes) {
            if (bytes < 1024) {
                return bytes + " B";
            }
            String[] units = {"KiB", "MiB", "GiB", "TiB"};
            double v = bytes;
            int u = -1;
            while (v >= 1024 && u < units.length - 1) {
                v /= 1024;
                u++;
            }
            return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
        }
    }
}
