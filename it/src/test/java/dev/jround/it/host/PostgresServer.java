package dev.jround.it.host;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server for the shared-queue tests: {@code $JROUND_TEST_PG_URL} when set (what .ci/run provides), else
 * one started here on loopback from Debian's binaries ({@code /usr/lib/postgresql/N/bin}; as the {@code postgres}
 * account when the tests run as root, since initdb refuses root). Without either, the calling test is skipped with
 * the reason.
 */
final class PostgresServer implements AutoCloseable {

    final String url;
    private final Path root;
    private final Path binaries;
    private final boolean asPostgres;

    private PostgresServer(String url, Path root, Path binaries, boolean asPostgres) {
        this.url = url;
        this.root = root;
        this.binaries = binaries;
        this.asPostgres = asPostgres;
    }

    static PostgresServer startOrSkip() throws IOException, InterruptedException {
        String given = System.getenv("JROUND_TEST_PG_URL");
        if (given != null && !given.isBlank()) {
            return new PostgresServer(given, null, null, false);
        }
        Path bin = findBinaries();
        Assumptions.assumeTrue(bin != null, "no PostgreSQL server: set JROUND_TEST_PG_URL, or install Debian's postgresql "
                + "(no /usr/lib/postgresql/N/bin/initdb here)");
        boolean asPostgres = "root".equals(System.getProperty("user.name"));
        Path root = Files.createTempDirectory("jround-pg-");
        if (asPostgres) {
            UserPrincipal pg = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(root, pg);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        PostgresServer server = new PostgresServer("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=jround", root, bin, asPostgres);
        Path data = root.resolve("data");
        server.run(bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "jround", "--no-sync");
        server.run(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l", root.resolve("server.log").toString(),
                "-o", "-p " + port + " -k " + root + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
        return server;
    }

    /** Empties the queue table (a given server may hold earlier runs' jobs). */
    void clearQueue() throws java.sql.SQLException {
        try (var c = java.sql.DriverManager.getConnection(url); var s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS jround_jobs");
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (root == null) {
            return;
        }
        try {
            run(binaries.resolve("pg_ctl").toString(), "-D", root.resolve("data").toString(), "-m", "immediate", "stop");
        } finally {
            try (Stream<Path> s = Files.walk(root)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Path findBinaries() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return null;
        }
        try (Stream<Path> s = Files.list(base)) {
            return s.map(p -> p.resolve("bin"))
                    .filter(p -> Files.isExecutable(p.resolve("initdb")) && Files.isExecutable(p.resolve("pg_ctl")))
                    .max(Comparator.comparing(p -> p.getParent().getFileName().toString())).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private void run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asPostgres) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }
}
