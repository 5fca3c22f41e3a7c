package dev.jround.host;

import dev.jround.host.jobs.HostApi;
import dev.jround.host.jobs.HostMetrics;
import dev.jround.host.jobs.HostToken;
import dev.jround.host.jobs.JobService;
import dev.jround.host.jobs.JobStore;
import dev.jround.host.jobs.PluginLeases;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * {@code jround-host [PLUGINS_DIR] [--once] [--port N [--bind ADDR] [--state DIR] [--concurrency N] [--queue URL]]}:
 * runs the OSGi host on a plugins directory (default {@code $JROUND_HOME/plugins}, else {@code ./plugins}), prints the
 * plugin table at start and whenever it changes, and runs until killed. {@code --once} prints the table once and
 * exits. With {@code --port} it also runs quantization jobs from a persistent queue, served over HTTP
 * (docs/host.md); SIGTERM stops it cleanly (running jobs go back to the queue).
 */
public final class JroundHostMain {

    static {
        // the CLI's simplelogger.properties (on the same class path) keeps libraries at warn; the host reports its own
        // bundle and job events at info unless the user chose a level
        if (System.getProperty("org.slf4j.simpleLogger.log.dev.jround.host") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.dev.jround.host", "info");
        }
    }

    static final String USAGE = "usage: jround-host [PLUGINS_DIR] [--once] [--port N [--bind ADDR] [--state DIR] "
            + "[--concurrency N] [--queue JDBC_URL]]";
    private static final Logger LOG = LoggerFactory.getLogger(JroundHostMain.class);
    /** Set by the shutdown hook: the table loop stops instead of printing the emptied registry. */
    private static volatile boolean stopping;

    private JroundHostMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean once = false;
        Path dir = null;
        Integer port = null;
        String bind = "127.0.0.1";
        Path state = null;
        int concurrency = 1;
        String queue = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--once")) {
                once = true;
            } else if (a.equals("-h") || a.equals("--help")) {
                System.out.println(USAGE);
                return;
            } else if (a.equals("--port") || a.equals("--bind") || a.equals("--state") || a.equals("--concurrency")
                    || a.equals("--queue")) {
                if (i + 1 >= args.length) {
                    usageError(a + " needs a value");
                }
                String v = args[++i];
                switch (a) {
                    case "--port" -> port = intValue(a, v, 0, 65535);
                    case "--bind" -> bind = v;
                    case "--state" -> state = Path.of(v);
                    case "--concurrency" -> concurrency = intValue(a, v, 1, 1024);
                    default -> queue = v;
                }
            } else if (a.startsWith("-") || dir != null) {
                usageError("unexpected argument '" + a + "'");
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
        if (port == null && (state != null || queue != null)) {
            usageError("--state and --queue belong to the job API: add --port N");
        }
        long poll = Long.getLong("jround.host.poll.ms", 1000);
        if (port == null) {
            JroundHost host = JroundHost.start(dir, null, Duration.ofMillis(poll));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping = true;
                host.close();
            }, "jround-host-shutdown"));
            printTables(host, dir, once, poll);
            return;
        }
        if (once) {
            usageError("--once prints the plugin table and exits: it does not go with --port");
        }
        serve(dir, port, bind, state == null ? defaultState() : state, concurrency, queue, poll);
    }

    private static void serve(Path dir, int port, String bind, Path state, int concurrency, String queue, long poll)
            throws InterruptedException {
        try {
            Files.createDirectories(state);
            try {
                Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException | IOException e) {
                LOG.warn("cannot make {} owner-only: {}", state, e.toString());
            }
        } catch (IOException e) {
            System.err.println("error: cannot create the state directory " + state + ": " + e.getMessage());
            System.err.println("hint: choose a writable directory with --state DIR");
            System.exit(2);
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(bind);
        } catch (IOException e) {
            usageError("--bind " + bind + " is not an address of this machine");
            return;
        }
        HostToken token;
        JobStore store;
        try {
            token = HostToken.resolve(System.getenv(HostToken.ENVIRONMENT), state);
            store = JobStore.open(queue != null ? queue : JobStore.h2Url(state));
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("hint: a state directory serves one host at a time; see docs/host.md");
            System.exit(2);
            return;
        }
        PluginLeases leases = new PluginLeases();
        JroundHost host = JroundHost.start(dir, state.resolve("felix-cache"), Duration.ofMillis(poll), leases);
        JobService jobs = new JobService(store, host.registry(), o -> {
            Bundle b = FrameworkUtil.getBundle(o.getClass());
            return b == null ? null : b.getBundleId();
        }, leases, workerId(state), concurrency, Duration.ofSeconds(1));
        jobs.start();
        HostApi api;
        try {
            api = HostApi.start(new InetSocketAddress(address, port), token, jobs, host.registry(), () -> HostMetrics.render(jobs));
        } catch (IOException e) {
            jobs.close();
            store.close();
            host.close();
            System.err.println("error: cannot listen on " + bind + ":" + port + ": " + e.getMessage());
            System.err.println("hint: choose another --port (0 takes a free one)");
            System.exit(2);
            return;
        }
        if (!address.isLoopbackAddress()) {
            LOG.warn("the job API listens on {}, not only on this machine: the token is all that guards it", bind);
        }
        Thread shutdown = new Thread(() -> {
            stopping = true;
            LOG.info("shutting down: no new requests, running jobs go back to the queue");
            api.close(1);
            jobs.close();
            store.close();
            host.close();
        }, "jround-host-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        InetSocketAddress bound = api.address();
        System.out.println("jround-host listening on http://" + bound.getAddress().getHostAddress() + ":" + bound.getPort()
                + " (token: " + token.source() + "; queue: " + store.description() + "; concurrency " + concurrency
                + "; state: " + state.toAbsolutePath() + ")");
        System.out.flush();
        printTables(host, dir, false, poll);
    }

    private static void printTables(JroundHost host, Path dir, boolean once, long poll) throws InterruptedException {
        PrintStream out = System.out;
        String shown = null;
        while (!stopping) {
            String table;
            try {
                table = PluginTable.render(host.registry().entries());
            } catch (RuntimeException closing) {
                return; // the shutdown hook closed the framework
            }
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

    /** {@code ~/.jround/host}: one place for the queue, the token and the bundle cache. */
    private static Path defaultState() {
        return Path.of(System.getProperty("user.home"), ".jround", "host");
    }

    /** This state directory's name in the queue, kept across restarts so that its interrupted jobs are found again. */
    private static String workerId(Path state) {
        Path file = state.resolve("host-id");
        try {
            if (!Files.exists(file)) {
                Files.writeString(file, InetAddress.getLocalHost().getHostName() + "-" + UUID.randomUUID() + "\n");
            }
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot keep the host id in " + file, e);
        }
    }

    private static int intValue(String flag, String v, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        usageError(flag + " " + v + " is invalid: give an integer from " + min + " to " + max);
        return min;
    }

    private static void usageError(String message) {
        System.err.println("error: " + message);
        System.err.println("hint: " + USAGE);
        System.exit(2);
    }
}
