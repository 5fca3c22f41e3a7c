package dev.jround.lib.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one Hugging Face hub client of jround (models for {@code --model} and {@code jround download}, datasets for
 * the {@code hf} dataset provider), with nothing but {@link HttpClient}, speaking the Hub's URL scheme:
 * {@code GET {endpoint}/api/{models|datasets}/{repo}/revision/{rev}} lists the files of a commit;
 * {@code HEAD {endpoint}/[datasets/]{repo}/resolve/{commit}/{file}} gives the file's hashes and size and its
 * storage location; a GET of that location fetches it.
 * <p>
 * What the server says is not trusted: every listed file name must be a safe relative path and the commit a
 * 40-digit hash before either names a folder, and every cache path is checked to stay inside the cache.
 * Blobs are downloaded to {@code blobs/<name>.incomplete}, resumed with a {@code Range} request after an
 * interruption (in this run or a later one), verified, and only then renamed into place (see
 * {@link Expected} for what is verified); the snapshot gets a relative symlink, and {@code refs/<revision>}
 * the commit once every file is in. The result is the cache layout the Python tools write and read.
 */
public final class HubClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ATTEMPTS = 5;
    private static final String USER_AGENT = "jround/" + Optional.ofNullable(HubClient.class.getPackage().getImplementationVersion())
            .orElse("0.1.0") + "; java/" + Runtime.version().feature();
    /** Serialises downloads of one blob inside this JVM; the file lock covers other processes. */
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private final HubSettings settings;
    private final HubCache cache;
    private final HttpClient http;
    private final DownloadProgress progress;
    private final Duration retryDelay;
    private final Duration stallTimeout;
    /** Closes response streams that stopped delivering bytes: HttpClient has no read timeout for bodies. */
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "jround-hub-stall-watchdog");
        t.setDaemon(true);
        return t;
    });

    /** The commit of a revision and the files it holds. */
    public record RepoInfo(String commit, List<String> files) {
    }

    /**
     * What a download is checked against, from the resolve answer's headers. The hash is huggingface_hub's
     * etag: {@code X-Linked-Etag} when present (LFS files: their sha256), else {@code ETag} (plain files: the
     * git blob sha1 over {@code "blob <size>\0" + content}); a value that is neither 64 nor 40 hex digits is no
     * hash. {@code X-Xet-Hash} is a Xet content hash (a BLAKE3 Merkle hash over content-defined chunks) that jround
     * does not compute: with it, only the size is checked, and the user is told so.
     *
     * @param sha256  expected sha256, or null
     * @param gitSha1 expected git blob sha1, or null
     * @param xetHash the X-Xet-Hash header, or null
     * @param size    {@code X-Linked-Size}, else {@code Content-Length} of a direct answer; -1 when unknown
     */
    record Expected(String sha256, String gitSha1, String xetHash, long size) {
        /** The blob's name in the cache when it is known before the download (the hash), else null. */
        String blobName() {
            return sha256 != null ? sha256 : gitSha1;
        }
    }

    /** What the Hub says about one file: what to verify, and where to fetch it. */
    record FileMeta(Expected expected, URI location) {
        long size() {
            return expected.size();
        }
    }

    public HubClient(HubSettings settings, DownloadProgress progress) {
        this(settings, progress, Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    /**
     * @param retryDelay   pause before the second attempt (it grows linearly with further attempts)
     * @param stallTimeout a download that receives no byte for this long is cut and resumed
     */
    HubClient(HubSettings settings, DownloadProgress progress, Duration retryDelay, Duration stallTimeout) {
        this.settings = settings;
        this.cache = new HubCache(settings.cacheDir());
        this.progress = progress;
        this.retryDelay = retryDelay;
        this.stallTimeout = stallTimeout;
        HttpClient.Builder b = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30));
        ProxySelector proxy = proxySelector(settings.proxy());
        if (proxy != null) {
            b.proxy(proxy);
        }
        this.http = b.build();
    }

    public HubCache cache() {
        return cache;
    }

    // ------------------------------------------------------------------------------------------ public API

    /** Lists the files of {@code revision} (a branch, tag or commit) and the commit it stands for. */
    public RepoInfo repoInfo(RepoType type, String repoId, String revision) {
        HubCache.requireRepoId(repoId);
        HubCache.requireRevision(revision);
        requireOnline(type, repoId, revision);
        URI uri = URI.create(settings.endpoint() + "/api/" + type.plural() + "/" + repoId + "/revision/" + encode(revision));
        HttpResponse<byte[]> r = withRetries("list " + repoId, () -> send(request(uri, "GET", null), HttpResponse.BodyHandlers.ofByteArray(), true));
        if (r.statusCode() != 200) {
            throw failure(r.statusCode(), r.headers(), new String(r.body(), StandardCharsets.UTF_8), type, repoId, revision, null);
        }
        try {
            JsonNode root = JSON.readTree(r.body());
            String sha = root.path("sha").asText("");
            HubCache.requireServerCommit(repoId, sha);
            List<String> files = new ArrayList<>();
            for (JsonNode s : root.path("siblings")) {
                String name = s.path("rfilename").asText();
                // one bad name means the answer is not from a Hub (git itself has no such paths): refuse all of it
                HubCache.requireSafeFileName(repoId, name);
                files.add(name);
            }
            return new RepoInfo(sha, List.copyOf(files));
        } catch (IOException e) {
            throw new JroundException("the Hub's answer for " + repoId + " is not JSON: " + e.getMessage().lines().findFirst().orElse(""),
                    "check HF_ENDPOINT points at a Hugging Face Hub");
        }
    }

    /**
     * Downloads what jround needs of a model repo (configuration, tokenizer and one set of safetensors weights,
     * see {@link ModelFiles}) and returns the snapshot directory.
     */
    public Path downloadModel(String repoId, String revision) {
        String rev = revision == null ? "main" : revision;
        RepoInfo info = repoInfo(RepoType.MODEL, repoId, rev);
        for (String f : info.files()) {
            if (ModelFiles.isSupportFile(f)) {
                downloadFile(RepoType.MODEL, repoId, info.commit(), f);
            }
        }
        Path snapshot = snapshotDir(RepoType.MODEL, repoId, info.commit());
        for (String f : ModelFiles.weightFiles(info.files(), snapshot)) {
            if (!info.files().contains(f)) {
                throw new CorruptInputException(repoId + "'s " + ModelFiles.INDEX + " names " + f + ", which the repo does not have",
                        "the repo is broken at this revision; try another --revision");
            }
            downloadFile(RepoType.MODEL, repoId, info.commit(), f);
        }
        writeRef(RepoType.MODEL, repoId, rev, info.commit());
        return snapshot;
    }

    /** Downloads every file of the repo that {@code include} accepts and returns the snapshot directory. */
    public Path download(RepoType type, String repoId, String revision, Predicate<String> include) {
        return downloadSelected(type, repoId, revision, files -> files.stream().filter(include).toList());
    }

    /**
     * Downloads the files {@code choose} picks from the repo's listing (it may throw to refuse the listing) and
     * returns the snapshot directory. {@code refs/<revision>} is written only after every file is in, so a
     * failed download never makes a partial snapshot look current.
     */
    public Path downloadSelected(RepoType type, String repoId, String revision, UnaryOperator<List<String>> choose) {
        String rev = revision == null ? "main" : revision;
        RepoInfo info = repoInfo(type, repoId, rev);
        for (String f : choose.apply(info.files())) {
            if (!info.files().contains(f)) {
                throw new IllegalArgumentException(f + " is not in the listing of " + repoId);
            }
            downloadFile(type, repoId, info.commit(), f);
        }
        Path snapshot = snapshotDir(type, repoId, info.commit());
        writeRef(type, repoId, rev, info.commit());
        return snapshot;
    }

    /** Downloads one file of a commit (40 hex digits) into the cache, if not there yet, and returns its snapshot path. */
    public Path downloadFile(RepoType type, String repoId, String commit, String file) {
        if (!HubCache.isCommit(commit)) {
            throw new IllegalArgumentException("downloadFile needs a commit hash, got '" + commit + "'; resolve revisions with repoInfo");
        }
        Path pointer = cache.pointerPath(type, repoId, commit, file);   // refuses unsafe names and paths outside
        if (Files.exists(pointer)) {
            return pointer;
        }
        requireOnline(type, repoId, commit);
        FileMeta meta = metadata(type, repoId, commit, file);
        // without a hash the blob's name (its sha256) is known only afterwards: lock and resume under a name
        // derived from the commit and the file instead
        String key = meta.expected().blobName() != null ? meta.expected().blobName()
                : sha256Hex(("unverified\0" + commit + "\0" + file).getBytes(StandardCharsets.UTF_8));
        try {
            Path lockFile = cache.lockPath(type, repoId, key);
            Path incomplete = cache.blobPath(type, repoId, key).resolveSibling(key + ".incomplete");
            Files.createDirectories(lockFile.getParent());
            Files.createDirectories(incomplete.getParent());
            synchronized (JVM_LOCKS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new Object())) {
                try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = lockChannel.lock()) {
                    Path blob = meta.expected().blobName() == null ? null : cache.blobPath(type, repoId, key);
                    if (blob == null || !Files.isRegularFile(blob)) {
                        blob = fetchBlob(type, repoId, commit, file, meta, incomplete);
                    }
                    cache.link(blob, pointer);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + " of " + repoId + " into the cache " + settings.cacheDir(), e);
        }
        return pointer;
    }

    // ------------------------------------------------------------------------------------------ steps

    private Path snapshotDir(RepoType type, String repoId, String commit) {
        Path dir = cache.repoFolder(type, repoId).resolve("snapshots").resolve(commit);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        return dir;
    }

    private void writeRef(RepoType type, String repoId, String revision, String commit) {
        try {
            cache.writeRef(type, repoId, revision, commit);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write refs/" + revision + " of " + repoId + " in " + settings.cacheDir(), e);
        }
    }

    private void requireOnline(RepoType type, String repoId, String revision) {
        if (settings.offline()) {
            throw new InvalidInputException((type == RepoType.DATASET ? "dataset " : "") + repoId
                    + (revision == null || revision.equals("main") ? "" : " at revision " + revision)
                    + " is not in the Hugging Face cache " + settings.cacheDir() + " and HF_HUB_OFFLINE is set, so it cannot be downloaded",
                    "unset HF_HUB_OFFLINE to download it, or fill the cache elsewhere (jround download " + repoId
                            + " or huggingface-cli download " + repoId + ") and copy it, or point HF_HUB_CACHE / HF_HOME at a cache that has it");
        }
    }

    /** HEAD on the resolve URL, following only redirects that stay on the Hub and carry no file metadata. */
    FileMeta metadata(RepoType type, String repoId, String commit, String file) {
        URI uri = resolveUri(type, repoId, commit, file);
        HttpResponse<Void> r = withRetries("look up " + file, () -> {
            URI current = uri;
            for (int hop = 0; ; hop++) {
                HttpResponse<Void> resp = http.send(request(current, "HEAD", null), HttpResponse.BodyHandlers.discarding());
                if (!isRedirect(resp.statusCode()) || resp.headers().firstValue("X-Linked-Etag").isPresent() || hop >= MAX_REDIRECTS) {
                    return resp;
                }
                URI next = current.resolve(resp.headers().firstValue("Location").orElseThrow(() -> new IOException("redirect without Location")));
                if (!sameHost(next, settings.endpoint())) {
                    return resp;
                }
                current = next;
            }
        });
        int status = r.statusCode();
        if (status != 200 && !isRedirect(status)) {
            throw failure(status, r.headers(), "", type, repoId, commit, file);
        }
        HttpHeaders h = r.headers();
        Optional<String> linked = h.firstValue("X-Linked-Etag");
        String hash = normalizeEtag(linked.or(() -> h.firstValue("ETag")).orElse(null));
        String xet = h.firstValue("X-Xet-Hash").map(String::strip).filter(x -> !x.isEmpty()).orElse(null);
        long size = h.firstValue("X-Linked-Size")
                .or(() -> isRedirect(status) ? Optional.empty() : h.firstValue("Content-Length"))
                .map(HubClient::parseLongOrMinusOne).orElse(-1L);
        Expected expected = new Expected(hash != null && SHA256.matcher(hash).matches() ? hash : null,
                hash != null && SHA1.matcher(hash).matches() ? hash : null, xet, size);
        URI location = isRedirect(status) ? r.uri().resolve(h.firstValue("Location").orElseThrow()) : r.uri();
        return new FileMeta(expected, location);
    }

    /** Fetches the file into {@code incomplete} (resuming it), verifies it and moves it to its blob; returns the blob. */
    private Path fetchBlob(RepoType type, String repoId, String commit, String file, FileMeta meta, Path incomplete) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                if (attempt > 1 && !meta.location().equals(resolveUri(type, repoId, commit, file))) {
                    // signed storage URLs expire: ask the Hub for a fresh one, keeping what we verify against
                    FileMeta fresh = metadata(type, repoId, commit, file);
                    meta = new FileMeta(meta.expected(), fresh.location());
                }
                transfer(file, meta, incomplete);
                last = null;
                break;
            } catch (IOException e) {
                last = e;
                if (attempt < MAX_ATTEMPTS) {
                    sleep(retryDelay.multipliedBy(attempt));
                }
            } finally {
                progress.finish();
            }
        }
        if (last != null) {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            throw new JroundException("download of " + file + " from " + repoId + " failed after " + MAX_ATTEMPTS + " attempts: "
                    + last.getMessage() + " (" + have + " bytes kept in " + incomplete + ")",
                    "run the command again to resume; check the network, proxy (HTTPS_PROXY) or HF_ENDPOINT", last);
        }
        String name = verify(repoId, file, meta.expected(), incomplete);
        Path blob = cache.blobPath(type, repoId, name);
        Files.move(incomplete, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return blob;
    }

    /** One GET of the file, continuing {@code incomplete} with a Range request when it already has bytes. */
    private void transfer(String file, FileMeta meta, Path incomplete) throws IOException {
        long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        if (meta.size() >= 0 && have > meta.size()) {
            Files.delete(incomplete);
            have = 0;
        }
        if (meta.size() >= 0 && have == meta.size() && have > 0) {
            return;
        }
        HttpResponse<InputStream> r;
        try {
            r = send(request(meta.location(), "GET", have > 0 ? "bytes=" + have + "-" : null), HttpResponse.BodyHandlers.ofInputStream(), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        try (InputStream body = r.body()) {
            int status = r.statusCode();
            boolean append;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    // a range we did not ask for: start over
                    Files.deleteIfExists(incomplete);
                    throw new IOException("server answered the range request with " + r.headers().firstValue("Content-Range").orElse("no Content-Range"));
                }
                append = true;
            } else if (status == 200) {
                append = false;   // no range asked, or the server ignored it: the body is the whole file
                have = 0;
            } else if (status == 416 && have > 0) {
                return;           // nothing left to send: the verification decides whether the file is whole
            } else {
                String text = new String(body.readNBytes(4096), StandardCharsets.UTF_8);
                boolean storageRefused = !sameHost(r.uri(), settings.endpoint()) && (status == 401 || status == 403 || status == 410);
                if (status >= 500 || status == 429 || storageRefused) {
                    // busy, or an expired signed URL: worth another attempt (with a fresh URL)
                    throw new IOException("HTTP " + status + " fetching " + file + " from " + r.uri().getHost());
                }
                throw new JroundException("HTTP " + status + " fetching " + file + " from " + meta.location().getHost() + ": "
                        + text.lines().findFirst().orElse(""), "check HF_TOKEN for gated or private repos");
            }
            progress.start(file, meta.size(), have);
            try (FileChannel out = append
                    ? FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                    : FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                long got = have;
                AtomicLong lastByte = new AtomicLong(System.nanoTime());
                AtomicBoolean stalled = new AtomicBoolean();
                long period = Math.max(1, stallTimeout.toMillis() / 4);
                ScheduledFuture<?> watch = WATCHDOG.scheduleAtFixedRate(() -> {
                    if (System.nanoTime() - lastByte.get() > stallTimeout.toNanos() && stalled.compareAndSet(false, true)) {
                        try {
                            body.close();   // wakes the blocked read, which then sees the end of the stream
                        } catch (IOException ignored) {
                            // the stream is being abandoned anyway
                        }
                    }
                }, period, period, TimeUnit.MILLISECONDS);
                try {
                    for (int n = body.read(buf); n >= 0; n = body.read(buf)) {
                        lastByte.set(System.nanoTime());
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                        while (bb.hasRemaining()) {
                            out.write(bb);
                        }
                        got += n;
                        progress.advance(n);
                    }
                } finally {
                    watch.cancel(false);
                }
                if (stalled.get()) {
                    throw new IOException("no data for " + stallTimeout.toSeconds() + " s after " + got + " bytes");
                }
                if (meta.size() >= 0 && got < meta.size()) {
                    throw new IOException("connection closed after " + got + " of " + meta.size() + " bytes");
                }
            }
        }
    }

    /**
     * Checks a finished download against what the Hub announced and returns the blob name. A mismatch deletes the
     * file and fails; a file nothing can be checked against is kept (the Python tools keep it too) with one
     * warning line, and named by its sha256.
     */
    private String verify(String repoId, String file, Expected expected, Path downloaded) throws IOException {
        long size = Files.size(downloaded);
        String problem = null;
        if (expected.size() >= 0 && size != expected.size()) {
            problem = "has " + size + " bytes but the Hub announced " + expected.size();
        } else if (expected.sha256() != null) {
            String actual = digest(downloaded, "SHA-256", null);
            if (!actual.equals(expected.sha256())) {
                problem = "has sha256 " + actual + " but the Hub announced " + expected.sha256();
            }
        } else if (expected.gitSha1() != null) {
            String actual = digest(downloaded, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            if (!actual.equals(expected.gitSha1())) {
                problem = "has git sha1 " + actual + " but the Hub announced " + expected.gitSha1();
            }
        }
        if (problem != null) {
            Files.deleteIfExists(downloaded);
            throw new CorruptInputException("downloaded " + file + " of " + repoId + " " + problem + "; the download was discarded",
                    "run the command again to download it afresh; if it persists, a proxy or mirror (HF_ENDPOINT) alters the file");
        }
        if (expected.blobName() != null) {
            return expected.blobName();
        }
        if (expected.xetHash() != null && expected.size() >= 0) {
            progress.warning(file + " of " + repoId + ": only its size (" + size + " bytes) was verified; the server sent an"
                    + " X-Xet-Hash, which jround does not compute, and no sha256 or git sha1");
        } else if (expected.size() >= 0) {
            progress.warning(file + " of " + repoId + " not verified: the server sent no hash (only its size, " + size
                    + " bytes, matched)");
        } else {
            progress.warning(file + " of " + repoId + " not verified: the server sent no hash and no size");
        }
        return digest(downloaded, "SHA-256", null);
    }

    private static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    static String digest(Path file, String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every Java runtime", e);
        }
        if (prefix != null) {
            md.update(prefix);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ------------------------------------------------------------------------------------------ HTTP

    private HttpRequest request(URI uri, String method, String range) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(60))
                .header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity")
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (range != null) {
            b.header("Range", range);
        }
        // the token goes to the Hub only, never to the storage hosts it redirects to
        if (settings.token() != null && sameHost(uri, settings.endpoint())) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return b.build();
    }

    /** Sends a request, following redirects by hand so the token is dropped when the host changes. */
    private <T> HttpResponse<T> send(HttpRequest first, HttpResponse.BodyHandler<T> handler, boolean followRedirects)
            throws IOException, InterruptedException {
        HttpRequest req = first;
        for (int hop = 0; ; hop++) {
            HttpResponse<T> r = http.send(req, handler);
            if (!followRedirects || !isRedirect(r.statusCode()) || hop >= MAX_REDIRECTS) {
                return r;
            }
            Optional<String> location = r.headers().firstValue("Location");
            if (location.isEmpty()) {
                return r;
            }
            if (r.body() instanceof InputStream in) {
                in.close();
            }
            req = request(req.uri().resolve(location.get()), req.method(), req.headers().firstValue("Range").orElse(null));
        }
    }

    private interface Call<T> {
        HttpResponse<T> run() throws IOException, InterruptedException;
    }

    /** Retries network errors, 429 and 5xx with a growing pause; other answers are returned as they are. */
    private <T> HttpResponse<T> withRetries(String what, Call<T> call) {
        IOException last = null;
        HttpResponse<T> response = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                response = call.run();
                if (response.statusCode() != 429 && response.statusCode() < 500) {
                    return response;
                }
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JroundException("interrupted while trying to " + what, null, e);
            }
            if (attempt < MAX_ATTEMPTS) {
                sleep(retryDelay.multipliedBy(attempt));
            }
        }
        if (response != null && last == null) {
            return response;
        }
        throw new JroundException("cannot reach " + settings.endpoint() + " to " + what + ": " + describe(last),
                "check the network or proxy (HTTPS_PROXY), set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use only the local cache",
                last);
    }

    private static String describe(IOException e) {
        String m = e == null ? null : e.getMessage();
        return e == null ? "no answer" : e.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }

    private JroundException failure(int status, HttpHeaders h, String body, RepoType type, String repoId, String revision, String file) {
        String code = h.firstValue("X-Error-Code").orElse("");
        String serverMessage = h.firstValue("X-Error-Message").orElse(errorFromBody(body));
        String what = (type == RepoType.DATASET ? "dataset " : "model ") + repoId;
        String detail = serverMessage.isEmpty() ? "" : " (" + serverMessage + ")";
        if (code.equals("GatedRepo") || (status == 403 && serverMessage.toLowerCase(Locale.ROOT).contains("gated"))) {
            return new InvalidInputException(what + " is gated" + detail,
                    "accept its conditions on " + settings.endpoint() + "/" + type.urlPrefix() + repoId + " and set HF_TOKEN to a token of that account");
        }
        if (code.equals("RevisionNotFound")) {
            return new InvalidInputException("revision '" + revision + "' of " + what + " does not exist" + detail,
                    "give a branch, tag or commit of the repo with --revision");
        }
        if (code.equals("EntryNotFound") || (status == 404 && file != null)) {
            return new InvalidInputException("file " + file + " is not in " + what + " at " + revision + detail, "check the file name");
        }
        if (status == 401 || status == 403 || status == 404 || code.equals("RepoNotFound")) {
            return new InvalidInputException(what + " was not found on " + settings.endpoint() + " (HTTP " + status + ")" + detail,
                    settings.token() == null
                            ? "check the repo id; a private or gated repo needs HF_TOKEN"
                            : "check the repo id and that the token in HF_TOKEN may read it");
        }
        return new JroundException("the Hub answered HTTP " + status + " for " + what + detail, "try again later");
    }

    private static String errorFromBody(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n != null && n.has("error") ? n.get("error").asText() : "";
        } catch (IOException e) {
            return "";
        }
    }

    private URI resolveUri(RepoType type, String repoId, String revision, String file) {
        StringBuilder path = new StringBuilder();
        for (String part : file.split("/")) {
            path.append(path.length() == 0 ? "" : "/").append(encode(part));
        }
        return URI.create(settings.endpoint() + "/" + type.urlPrefix() + repoId + "/resolve/" + encode(revision) + "/" + path);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%7E", "~");
    }

    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        return e.replace("\"", "").toLowerCase(Locale.ROOT);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static long parseLongOrMinusOne(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JroundException("interrupted", null, e);
        }
    }

    /** A proxy from HTTPS_PROXY / HTTP_PROXY (by the endpoint's scheme) unless NO_PROXY names the host. */
    private ProxySelector proxySelector(HubSettings.ProxySettings p) {
        String url = "https".equalsIgnoreCase(settings.endpoint().getScheme()) ? p.httpsProxy() : p.httpProxy();
        if (url.isEmpty()) {
            return null;
        }
        String host = settings.endpoint().getHost();
        for (String entry : p.noProxy().split(",")) {
            String e = entry.strip();
            if (e.equals("*") || (!e.isEmpty() && host != null && (host.equalsIgnoreCase(e) || host.endsWith(e.startsWith(".") ? e : "." + e)))) {
                return null;
            }
        }
        URI proxy = URI.create(url.contains("://") ? url : "http://" + url);
        return ProxySelector.of(new InetSocketAddress(proxy.getHost(), proxy.getPort() > 0 ? proxy.getPort() : 80));
    }
}
