package dev.jround.it.host;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code jround-host} in a child JVM, laid out as the product lays it out: the test class path without the
 * plugin jars as lib/, the plugin jars this build produced copied into a plugins directory (each a bundle).
 */
final class ChildHost implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("listening on (http://[0-9.]+:[0-9]+)");

    final Process process;
    final Path log;
    final URI base;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String token;

    private ChildHost(Process process, Path log, URI base, String token) {
        this.process = process;
        this.log = log;
        this.base = base;
        this.token = token;
    }

    /** The plugin jars on this test's class path, copied into {@code pluginsDir}. */
    static void copyPlugins(Path pluginsDir) throws IOException {
        Files.createDirectories(pluginsDir);
        int n = 0;
        for (Path p : classPath()) {
            if (isPluginJar(p)) {
                Files.copy(p, pluginsDir.resolve(p.getFileName()));
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalStateException("no plugin jars on the test class path (run the tests through 'verify' so that "
                    + "the reactor hands out packaged jars): " + classPath());
        }
    }

    /**
     * Starts {@code jround-host PLUGINS --port 0 --state STATE extra...} with {@code token} in JROUND_HOST_TOKEN (none:
     * the host makes its token file) and waits for its listening line.
     */
    static ChildHost start(Path pluginsDir, Path state, Path log, String token, String... extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the surefire fork's settings (pom.xml): offline, one libtorch thread, so results match this JVM's
        cmd.addAll(List.of("-Xmx1g", "-XX:+UseSerialGC", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1", "-Djround.host.poll.ms=200"));
        cmd.addAll(List.of(System.getProperty("jround.test.hostJvmOptions", "").split(" ")).stream().filter(o -> !o.isBlank()).toList());
        StringBuilder cp = new StringBuilder();
        for (Path p : classPath()) {
            if (!isPluginJar(p)) {
                cp.append(cp.length() == 0 ? "" : File.pathSeparator).append(p);
            }
        }
        cmd.addAll(List.of("-cp", cp.toString(), "dev.jround.host.JroundHostMain", pluginsDir.toString(),
                "--port", "0", "--state", state.toString()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().remove("JROUND_HOST_TOKEN");
        if (token != null) {
            pb.environment().put("JROUND_HOST_TOKEN", token);
        }
        Files.createDirectories(log.getParent());
        long logStart = Files.exists(log) ? Files.size(log) : 0;
        Process process = pb.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log).substring((int) logStart) : "";
            Matcher m = LISTENING.matcher(text);
            if (m.find() && text.contains(" plugins\n")) {
                String t = token != null ? token : Files.readString(state.resolve("token")).trim();
                return new ChildHost(process, log, URI.create(m.group(1)), t);
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("jround-host exited with " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException("jround-host did not start within 120 s:\n" + Files.readString(log));
    }

    HttpResponse<String> send(String method, String path, String body, String bearer) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        return send(method, path, body, token);
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", path, null);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** Submits {@code args} and returns the job id (fails on anything but 201). */
    String submit(List<String> args) throws IOException, InterruptedException {
        HttpResponse<String> r = send("POST", "/v1/jobs", JSON.writeValueAsString(Map.of("args", args)));
        if (r.statusCode() != 201) {
            throw new IllegalStateException("POST /v1/jobs: " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).get("id").asText();
    }

    /** One server-sent event. */
    record Event(long id, String type, JsonNode data) {
    }

    /** Reads the job's event stream until the server ends it (the job is final) or {@code stop} holds for an event. */
    List<Event> follow(String jobId, Predicate<Event> stop) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/jobs/" + jobId + "/events"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(600)).GET().build();
        HttpResponse<java.io.InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("events: " + r.statusCode());
        }
        if (!r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
            throw new IllegalStateException("events are not text/event-stream: " + r.headers().map());
        }
        List<Event> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            long id = -1;
            String type = "message";
            StringBuilder data = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isEmpty()) {
                    if (data.length() > 0) {
                        Event e = new Event(id, type, JSON.readTree(data.toString()));
                        out.add(e);
                        if (stop.test(e)) {
                            return out;
                        }
                    }
                    id = -1;
                    type = "message";
                    data.setLength(0);
                } else if (line.startsWith("id: ")) {
                    id = Long.parseLong(line.substring(4));
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
        }
        return out;
    }

    /** Polls the job until it is final. */
    JsonNode awaitFinal(String jobId, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode j = get("/v1/jobs/" + jobId);
            String s = j.get("state").asText();
            if (s.equals("succeeded") || s.equals("failed") || s.equals("cancelled")) {
                return j;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + jobId + " not final after " + timeout + ": " + j + "\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
    }

    /** SIGTERM, then waits for the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            terminate();
        }
    }

    private static boolean isPluginJar(Path p) {
        String name = p.getFileName().toString();
        return name.startsWith("jround-plugin-") && name.endsWith(".jar") && Files.isRegularFile(p);
    }

    /** The test JVM's class path, with the entries a surefire manifest-only jar names. */
    static List<Path> classPath() {
        Set<Path> out = new LinkedHashSet<>();
        for (String s : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (s.isBlank()) {
                continue;
            }
            Path p = Path.of(s).toAbsolutePath().normalize();
            out.add(p);
            if (p.getFileName().toString().startsWith("surefirebooter") && Files.isRegularFile(p)) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    String cp = jar.getManifest().getMainAttributes().getValue("Class-Path");
                    for (String item : cp == null ? new String[0] : cp.trim().split("\\s+")) {
                        out.add(Path.of(new URL(p.toUri().toURL(), item).toURI()).toAbsolutePath().normalize());
                    }
                } catch (IOException | java.net.URISyntaxException e) {
                    throw new IllegalStateException("cannot read " + p, e);
                }
            }
        }
        return new ArrayList<>(out);
    }
}
