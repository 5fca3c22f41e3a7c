package dev.jround.lib.hub;

import dev.jround.lib.hub.testing.FakeHub;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class HubClientTest {

    static final String REPO = "acme/tiny-model";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path tmp;

    FakeHub hub;
    Path cacheDir;
    FakeHub.RepoFile config;
    FakeHub.RepoFile shard1;
    FakeHub.RepoFile shard2;

    static byte[] randomBytes(int n, long seed) {
        return FakeHub.randomBytes(n, seed);
    }

    static FakeHub.RepoFile text(String name, String content) {
        return FakeHub.text(name, content);
    }

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        cacheDir = tmp.resolve("hf-home").resolve("hub");
        config = text("config.json", "{\"model_type\":\"llama\",\"hidden_size\":64}");
        shard1 = new FakeHub.RepoFile("model-00001-of-00002.safetensors", randomBytes(300_000, 1), true);
        shard2 = new FakeHub.RepoFile("model-00002-of-00002.safetensors", randomBytes(40_000, 2), true);
        hub.addRepo(RepoType.MODEL, REPO, COMMIT, false,
                text(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
                text("README.md", "# tiny\n"),
                config,
                text("generation_config.json", "{\"do_sample\":false}"),
                text("tokenizer.json", "{\"version\":\"1.0\"}"),
                text("model.safetensors.index.json", "{\"metadata\":{\"total_size\":340000},\"weight_map\":{"
                        + "\"a.weight\":\"model-00001-of-00002.safetensors\",\"b.weight\":\"model-00002-of-00002.safetensors\"}}"),
                shard1,
                shard2,
                new FakeHub.RepoFile("consolidated.safetensors", randomBytes(1000, 3), true),
                text("original/params.json", "{\"dim\":64}"));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    HubClient client(HubSettings s) {
        return new HubClient(s, DownloadProgress.NONE, Duration.ofMillis(5), Duration.ofSeconds(2));
    }

    HubSettings settings() {
        return HubSettings.of(hub.endpoint(), cacheDir);
    }

    Path repoFolder() {
        return cacheDir.resolve("models--acme--tiny-model");
    }

    @Test
    void fullDownloadWritesTheHuggingFaceCacheLayout() throws IOException {
        Path snapshot = client(settings()).downloadModel(REPO, null);

        assertEquals(repoFolder().resolve("snapshots").resolve(COMMIT), snapshot);
        assertEquals(COMMIT, Files.readString(repoFolder().resolve("refs/main")));
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "model.safetensors.index.json",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            assertTrue(Files.isSymbolicLink(snapshot.resolve(f)), f + " is a symlink");
        }
        assertEquals(Path.of("../../blobs/" + config.etag()), Files.readSymbolicLink(snapshot.resolve("config.json")));
        assertEquals(Path.of("../../blobs/" + shard1.etag()), Files.readSymbolicLink(snapshot.resolve(shard1.name())));
        assertEquals(64, shard1.etag().length(), "LFS blobs are named by sha256");
        assertEquals(40, config.etag().length(), "plain files by git sha1");
        assertArrayEquals(shard1.content(), Files.readAllBytes(snapshot.resolve(shard1.name())));
        assertArrayEquals(config.content(), Files.readAllBytes(repoFolder().resolve("blobs").resolve(config.etag())));
        // one set of weights, no documentation or duplicate formats
        for (String skipped : List.of("README.md", ".gitattributes", "consolidated.safetensors", "original")) {
            assertFalse(Files.exists(snapshot.resolve(skipped)), skipped + " is not downloaded");
        }
        try (Stream<Path> s = Files.list(repoFolder().resolve("blobs"))) {
            assertEquals(6, s.filter(p -> !p.toString().endsWith(".incomplete")).count());
        }
        try (Stream<Path> s = Files.list(repoFolder().resolve("blobs"))) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }
        assertTrue(Files.exists(cacheDir.resolve(".locks/models--acme--tiny-model").resolve(shard1.etag() + ".lock")));
        assertEquals(1, hub.requestsTo("/api/").size());
        assertTrue(hub.requestsTo("/cdn/").stream().allMatch(r -> r.host().startsWith("localhost")));
    }

    @Test
    void tokenGoesToTheHubButNotToTheStorageHost() {
        client(settings().withToken("hf_secret")).downloadModel(REPO, "main");
        List<FakeHub.Request> hubSide = hub.requestsTo("/api/");
        assertEquals("Bearer hf_secret", hubSide.get(0).authorization());
        assertTrue(hub.requestsTo("/acme/").stream().allMatch(r -> "Bearer hf_secret".equals(r.authorization())));
        List<FakeHub.Request> storage = hub.requestsTo("/cdn/");
        assertEquals(2, storage.size());
        assertTrue(storage.stream().allMatch(r -> r.authorization() == null), "no token to a signed storage URL");
    }

    @Test
    void interruptedDownloadIsResumedWithRangeAndVerified() throws IOException {
        hub.interruptOnce.add(shard1.etag());
        Path snapshot = client(settings()).downloadModel(REPO, null);
        List<FakeHub.Request> gets = hub.requestsTo("/cdn/" + shard1.etag());
        assertEquals(2, gets.size(), "one cut connection, one resume");
        assertNull(gets.get(0).range());
        // the server sent half; on a loaded machine the reset connection may drop part of what was in flight
        // (even all of it, so that the retry starts from byte 0, with or without a Range header)
        String range = gets.get(1).range();
        long from = 0;
        if (range != null) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytes=(\\d+)-").matcher(range);
            assertTrue(m.matches(), range);
            from = Long.parseLong(m.group(1));
        }
        assertTrue(from >= 0 && from <= shard1.content().length / 2, range);
        assertArrayEquals(shard1.content(), Files.readAllBytes(snapshot.resolve(shard1.name())));
    }

    @Test
    void stalledDownloadIsCutAndResumed() throws IOException {
        hub.stallOnce.add(shard2.etag());
        Path snapshot = new HubClient(settings(), DownloadProgress.NONE, Duration.ofMillis(5), Duration.ofMillis(400))
                .downloadModel(REPO, null);
        List<FakeHub.Request> gets = hub.requestsTo("/cdn/" + shard2.etag());
        assertEquals(2, gets.size());
        assertEquals("bytes=" + shard2.content().length / 2 + "-", gets.get(1).range());
        assertArrayEquals(shard2.content(), Files.readAllBytes(snapshot.resolve(shard2.name())));
    }

    @Test
    void expiredStorageUrlIsRenewed() throws IOException {
        hub.expireOnce.add(shard2.etag());
        Path snapshot = client(settings()).downloadModel(REPO, null);
        assertEquals(2, hub.requestsTo("/cdn/" + shard2.etag()).size());
        assertEquals(2, hub.requestsTo("/" + REPO + "/resolve/" + COMMIT + "/" + shard2.name()).size(), "a fresh URL was asked for");
        assertArrayEquals(shard2.content(), Files.readAllBytes(snapshot.resolve(shard2.name())));
    }

    @Test
    void partialFileOfAnEarlierRunIsResumed() throws IOException {
        Path incomplete = repoFolder().resolve("blobs").resolve(shard1.etag() + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, Arrays.copyOf(shard1.content(), 123_456));
        Path snapshot = client(settings()).downloadModel(REPO, null);
        List<FakeHub.Request> gets = hub.requestsTo("/cdn/" + shard1.etag());
        assertEquals(1, gets.size());
        assertEquals("bytes=123456-", gets.get(0).range());
        assertArrayEquals(shard1.content(), Files.readAllBytes(snapshot.resolve(shard1.name())));
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void serverIgnoringRangeStartsOver() throws IOException {
        hub.ignoreRange = true;
        Path incomplete = repoFolder().resolve("blobs").resolve(shard2.etag() + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, Arrays.copyOf(shard2.content(), 1000));
        Path snapshot = client(settings()).downloadModel(REPO, null);
        assertArrayEquals(shard2.content(), Files.readAllBytes(snapshot.resolve(shard2.name())));
    }

    @Test
    void corruptedDownloadIsRejectedAndDiscarded() throws IOException {
        hub.corrupt.add(shard2.etag());
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> client(settings()).downloadModel(REPO, null));
        assertTrue(e.getMessage().contains(shard2.name()) && e.getMessage().contains("sha256")
                && e.getMessage().contains(shard2.etag()), e.getMessage());
        Path blobs = repoFolder().resolve("blobs");
        assertFalse(Files.exists(blobs.resolve(shard2.etag())));
        assertFalse(Files.exists(blobs.resolve(shard2.etag() + ".incomplete")));
        assertFalse(Files.exists(repoFolder().resolve("snapshots").resolve(COMMIT).resolve(shard2.name())));
        // the next run, with a healthy server, completes the snapshot
        hub.corrupt.clear();
        Path snapshot = client(settings()).downloadModel(REPO, null);
        assertArrayEquals(shard2.content(), Files.readAllBytes(snapshot.resolve(shard2.name())));
    }

    @Test
    void unsafeNamesAndCommitsFromTheServerAreRefusedBeforeAnyWrite() throws IOException {
        for (String bad : List.of("../../x", "../../../../outside.json", "/etc/x.json", "a\\..\\x.json", "D:/x.json")) {
            hub.extraListed.put(REPO, List.of(bad));
            CorruptInputException e = assertThrows(CorruptInputException.class, () -> client(settings()).downloadModel(REPO, null), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        hub.extraListed.clear();
        hub.answeredCommit.put(REPO, "../../x");
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> client(settings()).downloadModel(REPO, null));
        assertTrue(e.getMessage().contains("'../../x'") && e.getMessage().contains("commit"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("hf-home")), "nothing written at all");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.toList());
        }
        assertTrue(hub.requestsTo("/acme/").isEmpty(), "no file was asked for");
    }

    @Test
    void plainFileWithAWrongGitSha1OrSizeIsRefused() {
        hub.corrupt.add(config.etag());
        CorruptInputException sha1 = assertThrows(CorruptInputException.class, () -> client(settings()).downloadModel(REPO, null));
        assertTrue(sha1.getMessage().contains("config.json") && sha1.getMessage().contains("git sha1 ")
                && sha1.getMessage().contains(config.etag()), sha1.getMessage());
        assertFalse(Files.exists(repoFolder().resolve("blobs").resolve(config.etag())));
        assertFalse(Files.exists(repoFolder().resolve("blobs").resolve(config.etag() + ".incomplete")));
        assertFalse(Files.exists(repoFolder().resolve("refs/main")), "no ref to a snapshot that is not complete");
        hub.corrupt.clear();
        hub.headers.put("config.json", java.util.Map.of("Content-Length", "5"));
        CorruptInputException size = assertThrows(CorruptInputException.class, () -> client(settings()).downloadModel(REPO, null));
        assertTrue(size.getMessage().contains("config.json") && size.getMessage().contains("announced 5"), size.getMessage());
    }

    @Test
    void fileWithoutAHashIsKeptWithOneWarningLine() throws IOException {
        hub.headers.put("config.json", java.util.Map.of("ETag", ""));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DownloadProgress.Console console = new DownloadProgress.Console(new PrintStream(log, true, StandardCharsets.UTF_8), false);
        Path snapshot = new HubClient(settings(), console, Duration.ofMillis(5), Duration.ofSeconds(2)).downloadModel(REPO, null);
        List<String> warnings = log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("warning:")).toList();
        assertEquals(1, warnings.size(), log.toString(StandardCharsets.UTF_8));
        assertTrue(warnings.get(0).contains("config.json of " + REPO + " not verified: the server sent no hash"), warnings.get(0));
        assertArrayEquals(config.content(), Files.readAllBytes(snapshot.resolve("config.json")));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(config.content())), Files.readSymbolicLink(snapshot.resolve("config.json")));
    }

    @Test
    void offlineModeNeverTouchesTheNetwork() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> client(settings().withOffline(true)).downloadModel(REPO, null));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains(REPO), e.getMessage());
        assertTrue(e.hint().contains("jround download " + REPO), e.hint());
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void hubErrorsBecomeClearMessages() {
        HubClient c = client(settings());
        InvalidInputException missing = assertThrows(InvalidInputException.class, () -> c.downloadModel("acme/nope", null));
        assertTrue(missing.getMessage().contains("acme/nope") && missing.getMessage().contains("not found"), missing.getMessage());
        assertTrue(missing.hint().contains("HF_TOKEN"), missing.hint());
        InvalidInputException revision = assertThrows(InvalidInputException.class, () -> c.downloadModel(REPO, "v9"));
        assertTrue(revision.getMessage().contains("revision 'v9'"), revision.getMessage());
        hub.addRepo(RepoType.MODEL, "acme/gated", COMMIT, true, config);
        InvalidInputException gated = assertThrows(InvalidInputException.class, () -> c.downloadModel("acme/gated", null));
        assertTrue(gated.getMessage().contains("gated"), gated.getMessage());
        assertTrue(Files.exists(client(settings().withToken("hf_ok")).downloadModel("acme/gated", null).resolve("config.json")));
        assertThrows(InvalidInputException.class, () -> c.downloadModel("not a repo", null));
        assertThrows(InvalidInputException.class, () -> c.downloadModel(REPO, "../../escape"));
    }

    @Test
    void datasetRepoWithNestedFiles() throws IOException {
        FakeHub.RepoFile rows = text("data/train.jsonl", "{\"text\":\"hello\"}\n{\"text\":\"world\"}\n");
        FakeHub.RepoFile parquet = new FakeHub.RepoFile("data/train-00000-of-00001.parquet", randomBytes(5000, 9), true);
        hub.addRepo(RepoType.DATASET, "acme/tiny-data", COMMIT, false, text("README.md", "data"), rows, parquet);
        HubClient c = client(settings());
        Path snapshot = c.download(RepoType.DATASET, "acme/tiny-data", null, f -> f.startsWith("data/"));
        Path folder = cacheDir.resolve("datasets--acme--tiny-data");
        assertEquals(folder.resolve("snapshots").resolve(COMMIT), snapshot);
        assertEquals(Path.of("../../../blobs/" + rows.etag()), Files.readSymbolicLink(snapshot.resolve("data/train.jsonl")));
        assertArrayEquals(parquet.content(), Files.readAllBytes(snapshot.resolve(parquet.name())));
        assertFalse(Files.exists(snapshot.resolve("README.md")));
        assertTrue(hub.requestsTo("/datasets/acme/tiny-data/resolve/").size() >= 2);
        assertEquals(snapshot, new HubCache(cacheDir).findDataset("acme/tiny-data", null).orElseThrow());
    }

    @Test
    void consoleProgressIsQuietWithoutATerminal() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DownloadProgress.Console quiet = new DownloadProgress.Console(new PrintStream(log, true, StandardCharsets.UTF_8), false);
        quiet.start("model.safetensors", 3 << 20, 0);
        for (int i = 0; i < 3000; i++) {
            quiet.advance(1024);
        }
        quiet.finish();
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("downloaded model.safetensors (2.9 MiB"), text);
        assertFalse(text.contains("\r"));

        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        DownloadProgress.Console bar = new DownloadProgress.Console(new PrintStream(tty, true, StandardCharsets.UTF_8), true);
        bar.start("model.safetensors", 2048, 1024);
        bar.advance(1024);
        bar.finish();
        String drawn = tty.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.startsWith("\rmodel.safetensors [") && drawn.contains("100%") && drawn.endsWith("\n"), drawn);
    }
}
