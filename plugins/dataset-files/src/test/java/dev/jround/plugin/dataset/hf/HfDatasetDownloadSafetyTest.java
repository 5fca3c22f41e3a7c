package dev.jround.plugin.dataset.hf;

import dev.jround.lib.hub.RepoType;
import dev.jround.lib.hub.testing.FakeHub;
import dev.jround.plugin.dataset.files.ReversingContext;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.data.DatasetProvider;
import dev.jround.spi.JroundException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code hf} provider against a hostile or broken hub (the shared {@link FakeHub} on 127.0.0.1): names and
 * commit ids that climb out of the cache, bodies that do not match their sha256 or git sha1, a wrong size, and
 * answers without any hash. Every refusal names the culprit and leaves no file behind, nothing is ever written
 * outside {@code HF_HOME}, and the good answers are read end to end through {@link HfDatasetProvider#open}.
 */
@Timeout(60)
class HfDatasetDownloadSafetyTest {

    static final String REPO = "NeelNanda/pile-10k";
    static final String COMMIT = "1234567890abcdef1234567890abcdef12345678";
    static final String DATA = "data/train-00000-of-00001.parquet";

    @TempDir
    Path tmp;

    FakeHub hub;
    Path hfHome;
    Path hubCache;
    byte[] parquet;
    ReversingContext ctx;

    @BeforeEach
    void start() throws Exception {
        hub = new FakeHub();
        // deep enough that '../..' from a snapshot folder, or more, would land in tmp but outside HF_HOME
        hfHome = tmp.resolve("a/b/hf-home");
        hubCache = hfHome.resolve("hub");
        parquet = Files.readAllBytes(Path.of(getClass().getResource("/hub-files/pile-10k-train.parquet").toURI()));
        ctx = new ReversingContext(List.of(hubCache), true);
    }

    @AfterEach
    void stop() throws IOException {
        hub.close();
        try (Stream<Path> all = Files.walk(tmp)) {
            List<Path> outside = all.filter(p -> !Files.isDirectory(p) && !p.startsWith(hfHome)).toList();
            assertEquals(List.of(), outside, "nothing is written outside HF_HOME");
        }
    }

    void serve(boolean lfs) {
        hub.addRepo(RepoType.DATASET, REPO, COMMIT, false, FakeHub.text("README.md", "# pile"),
                new FakeHub.RepoFile(DATA, parquet, lfs));
    }

    DatasetProvider.Loaded open() {
        Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", hfHome.toString());
        return new HfDatasetProvider(env).open(REPO, Map.of(), ctx);
    }

    /** Regular files and links under HF_HOME, lock files aside (they hold no data and stay, as in huggingface_hub). */
    List<Path> cachedFiles() throws IOException {
        if (!Files.exists(hfHome)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(hfHome)) {
            return all.filter(p -> !Files.isDirectory(p) && !p.toString().endsWith(".lock")).toList();
        }
    }

    Path repoFolder() {
        return hubCache.resolve("datasets--NeelNanda--pile-10k");
    }

    @Test
    void listedNamesThatLeaveTheCacheAreRefusedBeforeAnyWrite() throws IOException {
        serve(true);
        for (String bad : List.of("../../x", "../../../../../x.parquet", "data/../../../x.parquet", "/tmp/x.parquet",
                "data\\..\\..\\x.parquet", "C:/x.parquet")) {
            hub.extraListed.put(REPO, List.of(bad));
            CorruptInputException e = assertThrows(CorruptInputException.class, this::open, bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains(REPO), e.getMessage());
            assertTrue(e.hint().contains("outside the cache"), e.hint());
            assertEquals(List.of(), cachedFiles(), bad);
        }
        assertTrue(hub.requestsTo("/datasets/").isEmpty(), "no file was even asked for");
    }

    @Test
    void aCommitIdThatIsNotAHashIsRefused() throws IOException {
        serve(true);
        for (String bad : List.of("../../x", "main", "abc123", "../../../../../../../tmp/" + COMMIT)) {
            hub.answeredCommit.put(REPO, bad);
            CorruptInputException e = assertThrows(CorruptInputException.class, this::open, bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("commit"), e.getMessage());
            assertEquals(List.of(), cachedFiles(), bad);
        }
    }

    @Test
    void aBodyThatDoesNotMatchItsSha256IsRefusedAndNothingStays() throws IOException {
        serve(true);
        hub.corrupt.add(FakeHub.sha256(parquet));
        CorruptInputException e = assertThrows(CorruptInputException.class, this::open);
        assertTrue(e.getMessage().contains(DATA) && e.getMessage().contains("sha256 ")
                && e.getMessage().contains(FakeHub.sha256(parquet)), e.getMessage());
        assertTrue(e.hint().contains("afresh"), e.hint());
        assertEquals(List.of(), cachedFiles());
        // with an honest server the next run downloads and reads it
        hub.corrupt.clear();
        assertEquals(20, open().records().size());
    }

    @Test
    void aBodyThatDoesNotMatchItsGitBlobSha1IsRefused() throws IOException {
        serve(false);
        hub.corrupt.add(FakeHub.gitSha1(parquet));
        CorruptInputException e = assertThrows(CorruptInputException.class, this::open);
        assertTrue(e.getMessage().contains(DATA) && e.getMessage().contains("git sha1")
                && e.getMessage().contains(FakeHub.gitSha1(parquet)), e.getMessage());
        assertEquals(List.of(), cachedFiles());
    }

    @Test
    void aSizeThatDoesNotMatchIsRefused() throws IOException {
        serve(true);
        hub.headers.put(DATA, Map.of("X-Linked-Size", Integer.toString(parquet.length - 1)));
        CorruptInputException e = assertThrows(CorruptInputException.class, this::open);
        assertTrue(e.getMessage().contains(DATA) && e.getMessage().contains(parquet.length + " bytes")
                && e.getMessage().contains("announced " + (parquet.length - 1)), e.getMessage());
        assertEquals(List.of(), cachedFiles());
    }

    @Test
    void aVerifiedFileIsCachedLikeHuggingFaceHubAndRead() throws IOException {
        serve(true);
        DatasetProvider.Loaded loaded = open();
        assertEquals(20, loaded.records().size());
        assertTrue(loaded.records().get(0).text().startsWith("pile document 19 "), "rows in the context's order");
        assertTrue(loaded.source().contains("downloaded"), loaded.source());
        Path pointer = repoFolder().resolve("snapshots").resolve(COMMIT).resolve(DATA);
        assertEquals(Path.of("../../../blobs/" + FakeHub.sha256(parquet)), Files.readSymbolicLink(pointer));
        assertArrayEquals(parquet, Files.readAllBytes(pointer));
        assertEquals(COMMIT, Files.readString(repoFolder().resolve("refs/main")));
        assertTrue(ctx.infos.stream().noneMatch(l -> l.startsWith("warning")), ctx.infos.toString());
    }

    @Test
    void withoutAHashTheFileIsReadAndTheUserIsTold() throws IOException {
        serve(false);
        hub.headers.put(DATA, Map.of("ETag", "W/\"opaque-7\""));
        assertEquals(20, open().records().size());
        List<String> warnings = ctx.infos.stream().filter(l -> l.startsWith("warning")).toList();
        assertEquals(1, warnings.size(), ctx.infos.toString());
        assertTrue(warnings.get(0).contains(DATA) && warnings.get(0).contains("not verified: the server sent no hash")
                && warnings.get(0).contains(parquet.length + " bytes"), warnings.get(0));
        // named by its content, so the blob name is never a string the server chose
        assertTrue(Files.isRegularFile(repoFolder().resolve("blobs").resolve(FakeHub.sha256(parquet))));
    }

    @Test
    void withOnlyAXetHashTheSizeIsCheckedAndTheUserIsTold() throws IOException {
        serve(true);
        hub.headers.put(DATA, Map.of("X-Linked-Etag", "", "X-Xet-Hash", "ab".repeat(32)));
        assertEquals(20, open().records().size());
        List<String> warnings = ctx.infos.stream().filter(l -> l.startsWith("warning")).toList();
        assertEquals(1, warnings.size(), ctx.infos.toString());
        assertTrue(warnings.get(0).contains(DATA) && warnings.get(0).contains("X-Xet-Hash")
                && warnings.get(0).contains("only its size"), warnings.get(0));

        // and a wrong size is still refused when the Xet hash is all there is
        hub.close();
        hub = new FakeHub();
        hubCache = tmp.resolve("a/b/hf-home/hub2");
        ctx = new ReversingContext(List.of(hubCache), true);
        serve(true);
        hub.headers.put(DATA, Map.of("X-Linked-Etag", "", "X-Xet-Hash", "ab".repeat(32), "X-Linked-Size", "12"));
        CorruptInputException e = assertThrows(CorruptInputException.class, this::open);
        assertTrue(e.getMessage().contains(DATA) && e.getMessage().contains("announced 12"), e.getMessage());
    }

    @Test
    void offlineNeverAsksTheServer() {
        serve(true);
        ctx = new ReversingContext(List.of(hubCache), false);
        JroundException e = assertThrows(JroundException.class, this::open);
        assertTrue(e.getMessage().contains("not in the local Hugging Face cache"), e.getMessage());
        assertEquals(List.of(), hub.requests);
    }
}
