package dev.jround.host.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared queue on a real PostgreSQL server: two hosts (two stores, two connections) racing for jobs never take
 * the same one ({@code FOR UPDATE SKIP LOCKED}). The server is {@code $JROUND_TEST_PG_URL} when set (what .ci/run
 * provides), else one this test starts on loopback from Debian's binaries (/usr/lib/postgresql/N/bin); without
 * either the test is skipped with the reason.
 */
class PostgresQueueTest {

    static String url;
    static Path dataRoot;
    static Path binaries;
    static boolean asPostgresUser;

    @BeforeAll
    static void server() throws Exception {
        String given = System.getenv("JROUND_TEST_PG_URL");
        if (given != null && !given.isBlank()) {
            url = given;
            return;
        }
        binaries = findBinaries();
        Assumptions.assumeTrue(binaries != null, "no PostgreSQL server: set JROUND_TEST_PG_URL or install postgresql "
                + "(Debian: /usr/lib/postgresql/N/bin/initdb not found)");
        asPostgresUser = "root".equals(System.getProperty("user.name"));
        dataRoot = Files.createTempDirectory("jround-pg-");
        if (asPostgresUser) {
            // initdb refuses to run as root: the server runs as the postgres account
            UserPrincipal pg = dataRoot.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(dataRoot, pg);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = dataRoot.resolve("data");
        run(List.of(binaries.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "jround", "--no-sync"));
        run(List.of(binaries.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
                dataRoot.resolve("server.log").toString(), "-o",
                "-p " + port + " -k " + dataRoot + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"));
        url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=jround";
    }

    @AfterAll
    static void stop() throws Exception {
        if (dataRoot == null) {
            return;
        }
        try {
            run(List.of(binaries.resolve("pg_ctl").toString(), "-D", dataRoot.resolve("data").toString(), "-m", "immediate", "stop"));
        } finally {
            try (Stream<Path> s = Files.walk(dataRoot)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void twoHostsOnOneQueueNeverTakeTheSameJob() throws Exception {
        try (JobStore hostA = JobStore.open(url); JobStore hostB = JobStore.open(url)) {
            try (var c = java.sql.DriverManager.getConnection(url); var s = c.createStatement()) {
                s.execute("DELETE FROM jround_jobs");
            }
            for (int i = 0; i < 80; i++) {
                (i % 2 == 0 ? hostA : hostB).add(List.of("--model", "m" + i), "/out", i);
            }
            JobStoreTest.assertRaceIsClean(List.of(hostA, hostB, hostA, hostB), 80);
            assertEquals(80L, hostB.countByState().get(JobState.RUNNING));
            String first = hostA.list(200).get(79).id();
            hostA.requestCancel(first);
            assertEquals(true, hostB.cancelRequested(first), "a cancel reaches the host that runs the job");
        }
    }

    private static Path findBinaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("initdb")) && Files.isExecutable(p.resolve("pg_ctl")))
                    .max(Comparator.comparing(p -> p.getParent().getFileName().toString())).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asPostgresUser) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }
}
