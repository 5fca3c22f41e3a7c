package dev.jround.lib.hub.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.jround.lib.hub.RepoType;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1 that speaks its URL scheme: the revision API,
 * {@code /resolve/} answering LFS files with a 302 to a storage URL on another host name ({@code localhost})
 * plus {@code X-Linked-Etag} / {@code X-Linked-Size}, plain files with their git sha1 as ETag, and Range requests
 * on storage URLs. Faults can be injected per blob: cut the connection mid-file once, serve altered bytes,
 * or ignore Range headers; and per answer, as a hostile server would: extra names in a listing, another commit
 * id, replaced or removed headers of one file. Shared with the kernel's and the dataset plugin's tests through
 * this module's test-jar; it listens on 127.0.0.1 only.
 */
public final class FakeHub implements AutoCloseable {

    public record Request(String method, String host, String path, String authorization, String range) {
    }

    public record RepoFile(String name, byte[] content, boolean lfs) {
        public String etag() {
            return lfs ? sha256(content) : gitSha1(content);
        }
    }

    public record Repo(RepoType type, String id, String commit, Map<String, RepoFile> files, boolean gated) {
    }

    /** A plain (non-LFS) text file. */
    public static RepoFile text(String name, String content) {
        return new RepoFile(name, content.getBytes(StandardCharsets.UTF_8), false);
    }

    public static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    public static String sha256(byte[] content) {
        return hex("SHA-256", null, content);
    }

    /** The git blob hash: SHA-1 over {@code "blob <size>\0"} and the content. */
    public static String gitSha1(byte[] content) {
        return hex("SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII), content);
    }

    private static final Pattern API = Pattern.compile("/api/(models|datasets)/([^/]+/[^/]+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/(datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern CDN = Pattern.compile("/cdn/([0-9a-f]{64})");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    public final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** Blob etags whose next transfer is cut halfway. */
    public final Set<String> interruptOnce = ConcurrentHashMap.newKeySet();
    /** Etags (sha256 of LFS files, git sha1 of plain files) whose bytes are served altered, same length. */
    public final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    public final Set<String> stallOnce = ConcurrentHashMap.newKeySet();
    public final Set<String> expireOnce = ConcurrentHashMap.newKeySet();
    /** Per file name: headers of its resolve answers replaced by these values; an empty value removes the header. */
    public final Map<String, Map<String, String>> headers = new ConcurrentHashMap<>();
    /** Per repo id: names the listing adds after the real files. */
    public final Map<String, List<String>> extraListed = new ConcurrentHashMap<>();
    /** Per repo id: the commit id the revision API answers instead of the real one. */
    public final Map<String, String> answeredCommit = new ConcurrentHashMap<>();
    public volatile boolean ignoreRange;

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public Repo addRepo(RepoType type, String id, String commit, boolean gated, RepoFile... files) {
        Map<String, RepoFile> map = new LinkedHashMap<>();
        for (RepoFile f : files) {
            map.put(f.name(), f);
            if (f.lfs()) {
                blobs.put(f.etag(), f.content());
            }
        }
        Repo r = new Repo(type, id, commit, map, gated);
        repos.put(type.plural() + "/" + id, r);
        return r;
    }

    public List<Request> requestsTo(String pathPrefix) {
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().startsWith(pathPrefix)).toList();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestHeaders().getFirst("Host"), path,
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
        try {
            Matcher m;
            if ((m = API.matcher(path)).matches()) {
                api(ex, m.group(1), m.group(2), decode(m.group(3)));
            } else if ((m = CDN.matcher(path)).matches()) {
                cdn(ex, m.group(1));
            } else if ((m = RESOLVE.matcher(path)).matches()) {
                resolve(ex, m.group(1) == null ? "models" : "datasets", m.group(2), decode(m.group(3)), decode(m.group(4)));
            } else {
                error(ex, 404, null, "no route");
            }
        } finally {
            try {
                ex.close();
            } catch (RuntimeException | Error dropped) {
                // closing a deliberately cut exchange
            }
        }
    }

    private Repo repo(HttpExchange ex, String plural, String id) throws IOException {
        Repo r = repos.get(plural + "/" + id);
        if (r == null) {
            error(ex, 401, "RepoNotFound", "Repository not found");
            return null;
        }
        if (r.gated() && ex.getRequestHeaders().getFirst("Authorization") == null) {
            error(ex, 401, "GatedRepo", "Access to model " + id + " is restricted. You must have access to it and be authenticated to access it.");
            return null;
        }
        return r;
    }

    private void api(HttpExchange ex, String plural, String id, String rev) throws IOException {
        Repo r = repo(ex, plural, id);
        if (r == null) {
            return;
        }
        if (!rev.equals("main") && !rev.equals(r.commit())) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
            return;
        }
        String sha = answeredCommit.getOrDefault(id, r.commit());
        StringBuilder json = new StringBuilder("{\"id\":\"" + id + "\",\"sha\":\"" + jsonEscape(sha) + "\",\"siblings\":[");
        List<String> names = new ArrayList<>(r.files().keySet());
        names.addAll(extraListed.getOrDefault(id, List.of()));
        int i = 0;
        for (String f : names) {
            json.append(i++ == 0 ? "" : ",").append("{\"rfilename\":\"").append(jsonEscape(f)).append("\"}");
        }
        json.append("]}");
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
    }

    private void resolve(HttpExchange ex, String plural, String id, String rev, String file) throws IOException {
        Repo r = repo(ex, plural, id);
        if (r == null) {
            return;
        }
        if (!rev.equals("main") && !rev.equals(r.commit())) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
            return;
        }
        RepoFile f = r.files().get(file);
        if (f == null) {
            error(ex, 404, "EntryNotFound", "Entry not found");
            return;
        }
        ex.getResponseHeaders().set("X-Repo-Commit", r.commit());
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (f.lfs()) {
            ex.getResponseHeaders().set("X-Linked-Etag", "\"" + f.etag() + "\"");
            ex.getResponseHeaders().set("X-Linked-Size", Integer.toString(f.content().length));
            ex.getResponseHeaders().set("ETag", "W/\"not-the-blob-etag\"");
            ex.getResponseHeaders().set("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + f.etag() + "?signature=abc");
            override(ex, file);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        ex.getResponseHeaders().set("ETag", "\"" + f.etag() + "\"");
        byte[] content = corrupt.contains(f.etag()) ? altered(f.content()) : f.content();
        if (head) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(content.length));
            override(ex, file);
            ex.sendResponseHeaders(200, -1);
        } else {
            override(ex, file);
            ex.sendResponseHeaders(200, content.length);
            ex.getResponseBody().write(content);
        }
    }

    private void override(HttpExchange ex, String file) {
        headers.getOrDefault(file, Map.of()).forEach((k, v) -> {
            if (v.isEmpty()) {
                ex.getResponseHeaders().remove(k);
            } else {
                ex.getResponseHeaders().set(k, v);
            }
        });
    }

    private static byte[] altered(byte[] content) {
        byte[] c = content.clone();
        c[c.length / 3] ^= 0x5A;
        return c;
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private void cdn(HttpExchange ex, String sha) throws IOException {
        byte[] content = blobs.get(sha);
        if (content == null) {
            error(ex, 404, null, "no such blob");
            return;
        }
        if (expireOnce.remove(sha)) {
            error(ex, 403, null, "Request has expired");
            return;
        }
        if (corrupt.contains(sha)) {
            content = altered(content);
        }
        ex.getResponseHeaders().set("ETag", "\"cdn-" + sha.substring(0, 8) + "\"");
        ex.getResponseHeaders().set("Accept-Ranges", "bytes");
        String range = ex.getRequestHeaders().getFirst("Range");
        int from = 0;
        if (range != null && !ignoreRange) {
            Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (!m.matches()) {
                error(ex, 400, null, "bad range");
                return;
            }
            from = Integer.parseInt(m.group(1));
            if (from >= content.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            ex.sendResponseHeaders(206, content.length - from);
        } else {
            ex.sendResponseHeaders(200, content.length);
        }
        OutputStream out = ex.getResponseBody();
        if (interruptOnce.remove(sha)) {
            // Send part of the body and return: closing the exchange short of the announced length makes
            // the JDK server drop the connection, which is the interruption under test.
            out.write(content, from, (content.length - from) / 2);
            out.flush();
            return;
        }
        if (stallOnce.remove(sha)) {
            // send part of the body, then go silent with the connection open
            out.write(content, from, (content.length - from) / 2);
            out.flush();
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        out.write(content, from, content.length - from);
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().set("X-Error-Code", code);
        }
        ex.getResponseHeaders().set("X-Error-Message", message);
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] content) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            if (prefix != null) {
                md.update(prefix);
            }
            return HexFormat.of().formatHex(md.digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
