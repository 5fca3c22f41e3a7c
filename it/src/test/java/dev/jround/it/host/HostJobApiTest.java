package dev.jround.it.host;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.cli.JroundCli;
import dev.jround.it.Shared;
import dev.jround.it.TinyLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15: the real {@code jround-host} in a child JVM, on a free loopback port, with the plugin bundles of this
 * build. Jobs submitted over HTTP with the token give the CLI's bytes for the same flags; the token is required on
 * every request; a malformed job is refused with the CLI's own message; events stream; a cancel removes the partial
 * output; queued jobs survive a SIGTERM and a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostJobApiTest {

    static final String TOKEN = "it-token-" + Long.toHexString(System.nanoTime());

    @TempDir
    static Path tmp;
    static Path plugins;
    static Path state;
    static Path model;
    static Path calib;
    static ChildHost host;

    @BeforeAll
    static void startHost() throws Exception {
        plugins = tmp.resolve("plugins");
        ChildHost.copyPlugins(plugins);
        state = tmp.resolve("state");
        model = TinyLlama.SMALL.write(tmp.resolve("models/tiny"), 0f);
        calib = TinyLlama.SMALL.writeCalibration(tmp.resolve("models/calib.txt"), 16, 20, 3);
        host = ChildHost.start(plugins, state, tmp.resolve("logs/host.log"), TOKEN);
    }

    @AfterAll
    static void stopHost() throws Exception {
        if (host != null) {
            host.close();
        }
    }

    static List<String> tinyFlags(Path out, int iters) {
        return List.of("--model", model.toString(), "--scheme", "W4A16", "--group_size", "32", "--dataset", calib.toString(),
                "--nsamples", "8", "--seqlen", "16", "--batch_size", "4", "--iters", String.valueOf(iters),
                "--format", "auto_round", "--output_dir", out.toString());
    }

    @Test
    @Order(1)
    void everyRequestNeedsTheToken() throws Exception {
        for (String path : List.of("/v1/health", "/v1/jobs", "/v1/plugins", "/metrics", "/v1/jobs/nope", "/nothing")) {
            assertEquals(401, host.send("GET", path, null, null).statusCode(), "no token: " + path);
            assertEquals(401, host.send("GET", path, null, TOKEN + "x").statusCode(), "wrong token: " + path);
            assertEquals(401, host.send("GET", path, null, "").statusCode(), "empty token: " + path);
        }
        HttpResponse<String> post = host.send("POST", "/v1/jobs", ChildHost.JSON.writeValueAsString(
                Map.of("args", tinyFlags(tmp.resolve("never"), 0))), "wrong");
        assertEquals(401, post.statusCode());
        assertEquals(0, host.get("/v1/jobs").get("jobs").size(), "a refused request queues nothing");
        assertEquals("ok", host.get("/v1/health").get("status").asText());
        assertTrue(host.send("GET", "/v1/health", null, null).headers().firstValue("WWW-Authenticate").isPresent());
    }

    @Test
    @Order(2)
    void malformedJobsAreRefusedWithTheCliMessage() throws Exception {
        List<List<String>> cases = List.of(
                List.of("--model", model.toString(), "--iters", "-3"),
                List.of("--model", model.toString(), "--bogus_flag", "1"),
                List.of("--model", model.toString(), "--nsamples", "many"),
                List.of("--model", model.toString(), "--asym", "--sym"),
                List.of("--format", "auto_round"),
                List.of("--model", model.toString(), "--format", ",", "--output_dir", tmp.resolve("x").toString()));
        for (List<String> args : cases) {
            StringWriter err = new StringWriter();
            List<String> cli = new ArrayList<>(List.of("quantize"));
            cli.addAll(args);
            int code = JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), cli.toArray(new String[0]));
            assertEquals(2, code, "the CLI refuses " + args + ": " + err);
            List<String> lines = err.toString().lines().toList();
            HttpResponse<String> r = host.send("POST", "/v1/jobs", ChildHost.JSON.writeValueAsString(Map.of("args", args)));
            assertEquals(400, r.statusCode(), args + ": " + r.body());
            JsonNode body = ChildHost.JSON.readTree(r.body());
            assertEquals(lines.get(0), "error: " + body.get("error").asText(), "the CLI's message for " + args);
            assertEquals(lines.get(1), "hint: " + body.get("hint").asText(), "the CLI's hint for " + args);
        }
        for (String body : List.of("not json", "{}", "{\"args\": \"--model x\"}", "{\"args\": [\"--iters\", 3]}")) {
            HttpResponse<String> r = host.send("POST", "/v1/jobs", body);
            assertEquals(400, r.statusCode(), body + ": " + r.body());
            assertTrue(ChildHost.JSON.readTree(r.body()).get("error").asText().length() > 5, r.body());
        }
        assertEquals(0, host.get("/v1/jobs").get("jobs").size(), "nothing refused was queued");
    }

    @Test
    @Order(3)
    void aJobOverHttpWritesTheCliBytesAndStreamsItsProgress() throws Exception {
        Path hostOut = tmp.resolve("host-out");
        String id = host.submit(tinyFlags(hostOut, 10));
        List<ChildHost.Event> events = host.follow(id, e -> false);
        JsonNode job = host.get("/v1/jobs/" + id);
        assertEquals("succeeded", job.get("state").asText(), job + "\n" + Files.readString(host.log));

        List<String> types = events.stream().map(ChildHost.Event::type).toList();
        assertEquals("state", types.get(0));
        assertEquals("succeeded", events.get(events.size() - 1).data().get("state").asText(), "the stream ends with the final state");
        for (int b = 0; b < 2; b++) {
            int block = b;
            assertTrue(events.stream().anyMatch(e -> e.type().equals("block_started") && e.data().get("block").asInt() == block), types.toString());
            ChildHost.Event done = events.stream().filter(e -> e.type().equals("block_finished") && e.data().get("block").asInt() == block)
                    .findFirst().orElseThrow(() -> new AssertionError("no block_finished for block " + block + ": " + types));
            assertEquals(2, done.data().get("blocks").asInt());
            assertTrue(done.data().get("loss_after").isNumber() && done.data().get("loss_before").isNumber(), done.toString());
            assertTrue(done.data().get("layers").asInt() > 0, done.toString());
        }
        assertTrue(events.stream().anyMatch(e -> e.type().equals("iteration") && e.data().get("iters").asInt() == 10), types.toString());
        assertTrue(events.stream().anyMatch(e -> e.type().equals("log") && e.data().get("line").asText().startsWith("block 2/2")), types.toString());
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).id() > events.get(i - 1).id(), "event ids increase");
        }

        assertEquals(2, job.get("blocks").asInt());
        assertEquals(2, job.get("block").asInt());
        assertEquals(hostOut.toAbsolutePath().toString(), job.get("output_dir").asText());
        assertEquals("1.0.0", job.get("plugins").get("auto_round").asText(), job.toString());
        assertEquals("1.0.0", job.get("plugins").get("pytorch-cpu").asText(), job.toString());
        Path produced = Path.of(job.get("outputs").get(0).asText());
        assertEquals(hostOut.toAbsolutePath(), produced.getParent());

        Path cliOut = tmp.resolve("cli-out");
        List<String> cli = new ArrayList<>(List.of("quantize"));
        cli.addAll(tinyFlags(cliOut, 10));
        StringWriter err = new StringWriter();
        assertEquals(0, JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), cli.toArray(new String[0])), err.toString());
        assertSameFiles(cliOut.resolve(produced.getFileName()), produced);

        JsonNode list = host.get("/v1/jobs").get("jobs");
        assertTrue(stream(list).anyMatch(j -> j.get("id").asText().equals(id) && j.get("state").asText().equals("succeeded")));
        String metrics = host.send("GET", "/metrics", null).body();
        assertTrue(metrics.contains("jround_jobs{state=\"succeeded\"} 1"), metrics);
        assertTrue(metrics.contains("jround_block_seconds_count 2"), metrics);
        assertTrue(metrics.contains("jround_queue_length 0"), metrics);
        // a finished job's stream is its final state
        List<ChildHost.Event> again = host.follow(id, e -> false);
        assertEquals("succeeded", again.get(again.size() - 1).data().get("state").asText());
    }

    @Test
    @Order(4)
    void theRealModelOverHttpWritesTheCliBytes() throws Exception {
        Path aidreams = Shared.aidreams();
        Path hostOut = tmp.resolve("aidreams-host");
        Path cliOut = tmp.resolve("aidreams-cli");
        List<String> flags = List.of("--model", aidreams.toString(), "--scheme", "W4A16", "--group_size", "32",
                "--dataset", aidreams.resolve("calib.jsonl").toString(), "--nsamples", "8", "--seqlen", "32", "--iters", "10",
                "--format", "auto_round");
        List<String> hostFlags = new ArrayList<>(flags);
        hostFlags.addAll(List.of("--output_dir", hostOut.toString()));
        String id = host.submit(hostFlags);
        host.follow(id, e -> false);
        JsonNode job = host.get("/v1/jobs/" + id);
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        Path produced = Path.of(job.get("outputs").get(0).asText());
        List<String> cli = new ArrayList<>(List.of("quantize"));
        cli.addAll(flags);
        cli.addAll(List.of("--output_dir", cliOut.toString()));
        assertEquals(0, JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), cli.toArray(new String[0])));
        assertSameFiles(cliOut.resolve(produced.getFileName()), produced);
    }

    @Test
    @Order(5)
    void aSwapUnderLoadAppliesToUnusedPluginsAtOnceAndWaitsForTheRunningJobsOwn() throws Exception {
        Path out = tmp.resolve("swap-out");
        // long enough never to end by itself: the test ends it with a cancel once the swap rules are checked
        String id = host.submit(tinyFlags(out, 100_000));
        host.follow(id, e -> e.type().equals("block_started")); // the plan is made: the job holds only what it calls
        // gguf (exporter, data type, presets, reader) is not this job's: its update applies while the job runs
        reversion(plugins.resolve("jround-plugin-export-gguf-1.0.0.jar"), "1.0.1");
        awaitPlugin("exporter", "gguf", "1.0.1");
        assertEquals("running", host.get("/v1/jobs/" + id).get("state").asText(), "the update did not wait for the job");
        // auto_round is the job's exporter: its update waits
        reversion(plugins.resolve("jround-plugin-hf-packed-1.0.0.jar"), "1.0.1");
        Thread.sleep(2000);
        assertEquals("1.0.0", pluginVersion("exporter", "auto_round"));
        assertTrue(Files.readString(host.log).contains("update of jround-plugin-hf-packed-1.0.0.jar"), "the wait is logged");
        // the job is not broken by the pending update: it still runs and still makes progress
        assertEquals("running", host.get("/v1/jobs/" + id).get("state").asText());
        host.follow(id, e -> e.type().equals("iteration"));

        assertEquals(202, host.send("DELETE", "/v1/jobs/" + id, null).statusCode());
        JsonNode job = host.awaitFinal(id, Duration.ofSeconds(120));
        assertEquals("cancelled", job.get("state").asText(), "ended by the cancel, not by a failure: " + job);
        assertEquals("1.0.0", job.get("plugins").get("auto_round").asText(), "the versions it started with");
        assertEquals("1.0.0", job.get("plugins").get("gguf").asText());
        // the deferred update applies once the job that used the bundle has ended
        awaitPlugin("exporter", "auto_round", "1.0.1");
    }

    @Test
    @Order(6)
    void cancellingARunningJobRemovesItsPartialOutputAndNothingElse() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("cancel-out"));
        Path sentinel = Files.writeString(out.resolve("keep.txt"), "not jround's");
        String id = host.submit(tinyFlags(out, 100_000));
        host.follow(id, e -> e.type().equals("iteration"));
        HttpResponse<String> r = host.send("DELETE", "/v1/jobs/" + id, null);
        assertEquals(202, r.statusCode(), r.body());
        JsonNode job = host.awaitFinal(id, Duration.ofSeconds(60));
        assertEquals("cancelled", job.get("state").asText(), job.toString());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(sentinel), s.toList(), "only what was there before: the partial directory is gone");
        }
        assertEquals("not jround's", Files.readString(sentinel));
        assertEquals(409, host.send("DELETE", "/v1/jobs/" + id, null).statusCode(), "a finished job cannot be cancelled");
        assertEquals(404, host.send("DELETE", "/v1/jobs/no-such-job", null).statusCode());
    }

    @Test
    @Order(7)
    void queuedJobsSurviveASigtermAndARestart() throws Exception {
        Path out = tmp.resolve("restart-out");
        String first = host.submit(tinyFlags(out.resolve("a"), 400));
        String second = host.submit(tinyFlags(out.resolve("b"), 10));
        host.follow(first, e -> e.type().equals("iteration"));
        assertEquals("queued", host.get("/v1/jobs/" + second).get("state").asText(), "concurrency 1: the second waits");
        assertEquals(143, host.terminate(), "SIGTERM ends the host as the signal does");
        String log = Files.readString(host.log);
        assertTrue(log.contains("shutting down"), log);
        assertFalse(log.contains("Exception"), log);

        host = ChildHost.start(plugins, state, tmp.resolve("logs/host.log"), TOKEN);
        for (String id : List.of(first, second)) {
            JsonNode job = host.awaitFinal(id, Duration.ofSeconds(300));
            assertEquals("succeeded", job.get("state").asText(), job.toString());
        }
        assertTrue(Files.isDirectory(out.resolve("a/tiny-w4g32")));
        assertTrue(Files.isDirectory(out.resolve("b/tiny-w4g32")));
    }

    String pluginVersion(String kind, String id) throws Exception {
        return stream(host.get("/v1/plugins")).filter(p -> p.get("kind").asText().equals(kind) && p.get("id").asText().equals(id)
                && p.get("active").asBoolean()).map(p -> p.get("version").asText()).findFirst().orElse("absent");
    }

    void awaitPlugin(String kind, String id, String version) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!pluginVersion(kind, id).equals(version)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(kind + " " + id + " " + version + " not active after 30 s: " + host.get("/v1/plugins"));
            }
            Thread.sleep(100);
        }
    }

    /** Rewrites a plugin jar in place with another Bundle-Version and Implementation-Version, as a user copying a newer build over it. */
    static void reversion(Path jar, String version) throws IOException {
        Path staged = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(Files.newInputStream(jar))) {
            java.util.jar.Manifest manifest = new java.util.jar.Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            manifest.getMainAttributes().putValue("Implementation-Version", version);
            try (java.io.OutputStream file = Files.newOutputStream(staged);
                 java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(file, manifest)) {
                for (java.util.jar.JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                    out.putNextEntry(new java.util.jar.JarEntry(e.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        // the watcher keys on the file, so the name stays; *.tmp is not a jar it looks at
        Files.move(staged, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 2000));
    }

    static Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out.stream();
    }

    /** Every file of both trees byte for byte (not jround's marker: it holds the run's time). */
    static void assertSameFiles(Path expected, Path actual) throws IOException {
        Map<String, byte[]> a = files(expected);
        Map<String, byte[]> b = files(actual);
        assertFalse(a.isEmpty(), "nothing under " + expected);
        assertEquals(a.keySet(), b.keySet(), "the same files");
        for (String f : a.keySet()) {
            assertArrayEquals(a.get(f), b.get(f), "the same bytes in " + f);
        }
    }

    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(".jround-output.json")).toList()) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }
}
