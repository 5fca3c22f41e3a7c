package dev.jround.host.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The job API over HTTP (docs/host.md): the JDK's own server ({@code com.sun.net.httpserver}), every request
 * authenticated with the bearer token before anything else.
 */
public final class HostApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HostApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Request bodies above this are refused (a job is a list of flags). */
    private static final int MAX_BODY = 1 << 20;
    /** Concurrent requests; an event stream holds one for its whole life. */
    private static final int MAX_THREADS = 64;

    private final HttpServer server;
    private final ThreadPoolExecutor executor;
    private final HostToken token;
    private final JobService jobs;
    private final PluginRegistry plugins;
    private final Supplier<String> metrics;
    private final long started = System.currentTimeMillis();

    private HostApi(HttpServer server, ThreadPoolExecutor executor, HostToken token, JobService jobs,
                    PluginRegistry plugins, Supplier<String> metrics) {
        this.server = server;
        this.executor = executor;
        this.token = token;
        this.jobs = jobs;
        this.plugins = plugins;
        this.metrics = metrics;
    }

    /** Binds {@code address} (port 0: a free one) and serves. */
    public static HostApi start(InetSocketAddress address, HostToken token, JobService jobs, PluginRegistry plugins,
                                Supplier<String> metrics) throws IOException {
        HttpServer server = HttpServer.create(address, 64);
        ThreadPoolExecutor executor = new ThreadPoolExecutor(2, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "jround-http");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        server.setExecutor(executor);
        HostApi api = new HostApi(server, executor, token, jobs, plugins, metrics);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!token.accepts(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"jround-host\"");
                error(ex, 401, "missing or wrong bearer token", "send 'Authorization: Bearer <token>' with the token of "
                        + "$" + HostToken.ENVIRONMENT + " or the state directory's token file");
                return;
            }
            route(ex);
        } catch (IOException e) {
            LOG.debug("request {} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        } catch (RuntimeException e) {
            LOG.error("request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            try {
                error(ex, 500, e.toString(), null);
            } catch (IOException | RuntimeException ignored) {
                // the response was already under way
            }
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        List<String> parts = new ArrayList<>(List.of(path.replaceAll("^/+|/+$", "").split("/+")));
        if (path.equals("/metrics")) {
            requireMethod(ex, "GET");
            send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get().getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (parts.size() < 2 || !parts.get(0).equals("v1")) {
            error(ex, 404, "no such resource " + path, "the API is under /v1 (jobs, plugins, health) and /metrics");
            return;
        }
        String resource = parts.get(1);
        switch (resource) {
            case "health" -> {
                if (requireMethod(ex, "GET") && parts.size() == 2) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("status", "ok");
                    m.put("started", Instant.ofEpochMilli(started).toString());
                    m.put("running", jobs.runningHere());
                    m.put("concurrency", jobs.concurrency());
                    m.put("queue", jobs.store().description());
                    json(ex, 200, m);
                }
            }
            case "plugins" -> {
                if (requireMethod(ex, "GET") && parts.size() == 2) {
                    json(ex, 200, pluginTable());
                }
            }
            case "jobs" -> jobsResource(ex, method, parts);
            default -> error(ex, 404, "no such resource " + path, "the API is under /v1 (jobs, plugins, health) and /metrics");
        }
    }

    private void jobsResource(HttpExchange ex, String method, List<String> parts) throws IOException {
        if (parts.size() == 2) {
            if (method.equals("POST")) {
                submit(ex);
            } else if (requireMethod(ex, "GET")) {
                List<Map<String, Object>> out = new ArrayList<>();
                for (JobRecord j : jobs.store().list(1000)) {
                    out.add(view(j));
                }
                json(ex, 200, Map.of("jobs", out));
            }
            return;
        }
        String id = parts.get(2);
        Optional<JobRecord> job = jobs.store().get(id);
        if (job.isEmpty()) {
            error(ex, 404, "no job " + id, "GET /v1/jobs lists the jobs");
            return;
        }
        if (parts.size() == 3) {
            if (method.equals("DELETE")) {
                JobService.CancelOutcome outcome = jobs.cancel(id);
                Map<String, Object> m = view(jobs.store().get(id).orElseThrow());
                m.put("cancel", outcome.name().toLowerCase(java.util.Locale.ROOT));
                json(ex, outcome == JobService.CancelOutcome.ALREADY_FINISHED ? 409 : outcome
                        == JobService.CancelOutcome.CANCELLING ? 202 : 200, m);
            } else if (requireMethod(ex, "GET")) {
                json(ex, 200, view(job.get()));
            }
        } else if (parts.size() == 4 && parts.get(3).equals("events")) {
            if (requireMethod(ex, "GET")) {
                events(ex, job.get());
            }
        } else {
            error(ex, 404, "no such resource " + ex.getRequestURI().getPath(), "a job has /v1/jobs/{id} and /v1/jobs/{id}/events");
        }
    }

    private void submit(HttpExchange ex) throws IOException {
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        if (body.length > MAX_BODY) {
            error(ex, 413, "the request body is over " + MAX_BODY + " bytes", "send {\"args\": [the quantize flags]}");
            return;
        }
        List<String> args = new ArrayList<>();
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode a = root == null ? null : root.get("args");
            if (a == null || !a.isArray()) {
                throw new IllegalArgumentException("the body has no \"args\" array");
            }
            for (JsonNode n : a) {
                if (!n.isTextual()) {
                    throw new IllegalArgumentException("\"args\" holds a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                            + " (" + n + "); every element is a string");
                }
                args.add(n.asText());
            }
        } catch (IOException | IllegalArgumentException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? "the body is not JSON: " + j.getOriginalMessage() : e.getMessage();
            error(ex, 400, why, "send {\"args\": [\"--model\", \"PATH\", \"--format\", \"auto_round\", ...]}: the flags of 'jround quantize'");
            return;
        }
        try {
            JobRecord job = jobs.submit(args);
            ex.getResponseHeaders().set("Location", "/v1/jobs/" + job.id());
            json(ex, 201, Map.of("id", job.id()));
        } catch (InvalidInputException e) {
            error(ex, 400, e.getMessage(), e.hint());
        } catch (JroundException e) {
            error(ex, 400, e.getMessage(), e.hint());
        } catch (IllegalStateException e) {
            error(ex, 503, e.getMessage(), "try again once the host runs");
        }
    }

    /** Server-sent events until the job is final: buffered ones after {@code Last-Event-ID}, then live. */
    private void events(HttpExchange ex, JobRecord job) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        long after = 0;
        String last = ex.getRequestHeaders().getFirst("Last-Event-ID");
        if (last != null) {
            try {
                after = Long.parseLong(last.trim());
            } catch (NumberFormatException ignored) {
                // replay everything
            }
        }
        OutputStream out = ex.getResponseBody();
        while (true) {
            Optional<JobEvents> log = jobs.events(job.id());
            if (log.isEmpty()) {
                // no events in this process (finished before the host started, or runs on another host): the state
                JobRecord now = jobs.store().get(job.id()).orElse(job);
                if (now.state().terminal()) {
                    write(out, new JobEvents.Event(after + 1, "state", stateData(now)));
                    return;
                }
                out.write(": waiting\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                sleep(2000);
                continue;
            }
            List<JobEvents.Event> batch;
            try {
                batch = log.get().after(after, 15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (JobEvents.Event e : batch) {
                write(out, e);
                after = e.seq();
            }
            if (batch.isEmpty()) {
                if (log.get().closed()) {
                    return;
                }
                // submitted here but taken by another host of a shared queue: its end is only in the queue
                JobRecord now = jobs.store().get(job.id()).orElse(job);
                if (now.state().terminal() && !jobs.runsHere(job.id())) {
                    write(out, new JobEvents.Event(after + 1, "state", stateData(now)));
                    return;
                }
                out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void write(OutputStream out, JobEvents.Event e) throws IOException {
        String s = "id: " + e.seq() + "\nevent: " + e.type() + "\ndata: " + JSON.writeValueAsString(e.data()) + "\n\n";
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Map<String, Object> stateData(JobRecord j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", j.state().label());
        m.put("message", j.message());
        m.put("outputs", j.outputs());
        return m;
    }

    static Map<String, Object> view(JobRecord j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("state", j.state().label());
        m.put("block", j.block());
        m.put("blocks", j.blocks());
        m.put("message", j.message());
        m.put("output_dir", j.outputDir());
        m.put("outputs", j.outputs());
        m.put("plugins", j.plugins());
        m.put("args", j.args());
        m.put("worker", j.worker());
        m.put("created", time(j.createdMs()));
        m.put("started", time(j.startedMs()));
        m.put("finished", time(j.finishedMs()));
        return m;
    }

    private static String time(long ms) {
        return ms <= 0 ? null : Instant.ofEpochMilli(ms).toString();
    }

    private List<Map<String, Object>> pluginTable() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PluginRegistry.Entry e : plugins.entries()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", e.descriptor().kind().label());
            m.put("id", e.descriptor().id());
            m.put("version", e.descriptor().version());
            m.put("source", e.source());
            m.put("active", e.active());
            m.put("description", e.descriptor().description());
            out.add(m);
        }
        out.sort(java.util.Comparator.comparing((Map<String, Object> m) -> (String) m.get("kind"))
                .thenComparing(m -> (String) m.get("id")).thenComparing(m -> (String) m.get("version")));
        return out;
    }

    private static boolean requireMethod(HttpExchange ex, String method) throws IOException {
        if (ex.getRequestMethod().equals(method)) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", method);
        error(ex, 405, ex.getRequestMethod() + " is not allowed on " + ex.getRequestURI().getPath(), "use " + method);
        return false;
    }

    private static void error(HttpExchange ex, int status, String message, String hint) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (hint != null) {
            m.put("hint", hint);
        }
        json(ex, status, m);
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Stops accepting requests; open event streams are cut after at most {@code graceSeconds}. */
    public void close(int graceSeconds) {
        server.stop(graceSeconds);
        executor.shutdownNow();
    }

    @Override
    public void close() {
        close(1);
    }
}
