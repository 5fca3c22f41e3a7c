package dev.jround.host;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/**
 * {@code jround-host [PLUGINS_DIR] [--once]}: runs the OSGi host on a plugins directory (default
 * {@code $JROUND_HOME/plugins}, else {@code ./plugins}), prints the plugin table at start and whenever
 * it changes, and runs until killed. {@code --once} prints the table once and exits.
 */
public final class JroundHostMain {

    private JroundHostMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean once = false;
        Path dir = null;
        for (String a : args) {
            if (a.equals("--once")) {
                once = true;
            } else if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: jround-host [PLUGINS_DIR] [--once]");
                return;
            } else if (a.startsWith("-") || dir != null) {
                System.err.println("error: unexpected argument '" + a + "'");
                System.err.println("hint: usage: jround-host [PLUGINS_DIR] [--once]");
                System.exit(2);
            } else {
                dir = Path.of(a);
            }
        }
        if (dir == null) {
            String home = System.getProperty("jround.home");
            dir = home != null ? Path.of(home, "plugins") : Path.of("plugins");
        }
        if (!Files.isDirectory(dir)) {
            System.err.println("error: plugins directory " + dir + " does not exist");
            System.err.println("hint: pass the directory holding plugin jars, e.g. jround-host $JROUND_HOME/plugins");
            System.exit(2);
        }
        long poll = Long.getLong("jround.host.poll.ms", 1000);
        JroundHost host = JroundHost.start(dir, null, Duration.ofMillis(poll));
        Runtime.getRuntime().addShutdownHook(new Thread(host::close, "jround-host-shutdown"));
        PrintStream out = System.out;
        String shown = null;
        while (true) {
            String table = PluginTable.render(host.registry().entries());
            if (!table.equals(shown)) {
                out.println("== plugins in " + dir.toAbsolutePath().normalize() + " at "
                        + LocalTime.now().truncatedTo(ChronoUnit.SECONDS));
                out.print(table);
                out.flush();
                shown = table;
            }
            if (once) {
                System.exit(0); // the shutdown hook stops the framework
            }
            Thread.sleep(Math.max(100, poll / 2));
        }
    }
}
