package dev.jround.plugin.dataset.hf;

import dev.jround.lib.hub.RepoType;
import dev.jround.lib.hub.testing.FakeHub;
import dev.jround.plugin.dataset.files.ReversingContext;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfDatasetProviderTest {

    @TempDir
    Path tmp;

    private static Path fixture(String name) throws Exception {
        return Path.of(HfDatasetProviderTest.class.getResource("/hub-files/" + name).toURI());
    }

    /** Lays a file into {@code root} as huggingface_hub does: blob, snapshot symlink, refs/main. */
    private static void cache(Path root, String repo, String sha, String relPath, Path content) throws IOException {
        Path repoDir = root.resolve("datasets--" + repo.replace("/", "--"));
        Path blob = repoDir.resolve("blobs").resolve(Integer.toHexString(relPath.hashCode()) + "deadbeef");
        Files.createDirectories(blob.getParent());
        Files.copy(content, blob);
        Path link = repoDir.resolve("snapshots").resolve(sha).resolve(relPath);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs").resolve("main"), sha);
    }

    @Test
    void registeredAndMatchesExactAliasAndPartialNames() {
        assertTrue(ServiceLoader.load(DatasetProvider.class).stream().anyMatch(p -> p.type() == HfDatasetProvider.class));
        HfDatasetProvider p = new HfDatasetProvider(Map.of());
        assertEquals(DatasetProvider.Match.EXACT, p.match("NeelNanda/pile-10k"));
        assertEquals(DatasetProvider.Match.EXACT, p.match("mbpp"));
        assertEquals(DatasetProvider.Match.FUZZY, p.match("pile"));
        assertEquals("NeelNanda/pile-10k", NamedDataset.fuzzy("someone/pile").fullName(), "first registered name containing it");
        assertEquals("swift/pile-val-backup", NamedDataset.fuzzy("val-backup").fullName());
        assertEquals(DatasetProvider.Match.NONE, p.match("no-such-thing"));
        assertTrue(p.descriptor().supports().get("datasets").contains("ultrachat_200k"));
    }

    @Test
    void pile10kFromAHubCacheLayoutIsPermutedLikeDatasetShuffle() throws Exception {
        Path hub = tmp.resolve("home/hub");
        cache(hub, "NeelNanda/pile-10k", "abc123", "data/train-00000-of-00001-4746b8785c874cc7.parquet", fixture("pile-10k-train.parquet"));
        Files.createDirectories(hub.resolve("datasets--NeelNanda--pile-10k/snapshots/abc123"));
        Files.writeString(hub.resolve("datasets--NeelNanda--pile-10k/snapshots/abc123/README.md"), "# card");
        HfDatasetProvider p = new HfDatasetProvider(Map.of());
        ReversingContext ctx = new ReversingContext(List.of(tmp.resolve("elsewhere"), hub), false);
        assertTrue(p.availableOffline("NeelNanda/pile-10k", ctx));
        DatasetProvider.Loaded loaded = p.open("pile-10k", Map.of("split", "test", "concat", "false", "apply_chat_template", "false"), ctx);
        assertEquals(20, loaded.records().size());
        assertEquals(List.of("numpy:20"), ctx.calls);
        assertTrue(loaded.records().get(0).text().startsWith("pile document 19 "), loaded.records().get(0).text());
        assertTrue(loaded.source().contains("hub cache") && loaded.source().contains("1 file"), loaded.source());
        assertTrue(loaded.notes().get(0).contains("split=test ignored"));
    }

    @Test
    void mbppReadsTheChosenSplitsJoinsTextAndCodeAndShufflesLikePython() throws Exception {
        Path hub = tmp.resolve("hub");
        cache(hub, "google-research-datasets/mbpp", "s1", "full/test-00000-of-00001.parquet", fixture("mbpp-test.parquet"));
        cache(hub, "google-research-datasets/mbpp", "s1", "full/validation-00000-of-00001.parquet", fixture("mbpp-validation.parquet"));
        cache(hub, "google-research-datasets/mbpp", "s1", "sanitized/test-00000-of-00001.parquet", fixture("pile-10k-train.parquet"));
        ReversingContext ctx = new ReversingContext(List.of(hub), false);
        DatasetProvider.Loaded loaded = new HfDatasetProvider(Map.of())
                .open("mbpp", Map.of("split", "validation+test"), ctx);
        List<String> texts = loaded.records().stream().map(CalibrationRecord::text).toList();
        assertEquals(10, texts.size(), "full/ config only, both splits");
        assertEquals(List.of("python:10"), ctx.calls);
        assertEquals("Write a function number 5.def g5():\n    return 5", texts.get(0));
        assertEquals("Validate input 0.def v0():\n    pass", texts.get(9));
        assertThrows(InvalidInputException.class, () -> new HfDatasetProvider(Map.of()).open("mbpp", Map.of("split", "bogus"), ctx));
    }

    @Test
    void notCachedAndOfflineSaysSoClearly() {
        HfDatasetProvider p = new HfDatasetProvider(Map.of());
        ReversingContext ctx = new ReversingContext(List.of(tmp.resolve("empty")), false);
        assertFalse(p.availableOffline("NeelNanda/pile-10k", ctx));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> p.open("NeelNanda/pile-10k", Map.of(), ctx));
        assertTrue(e.getMessage().contains("not in the local Hugging Face cache"), e.getMessage());
        assertTrue(e.hint().contains("local"), e.hint());
    }

    @Test
    void ultrachatJoinsMessageContentsAndNeverAppliesTheTemplate() throws Exception {
        Path jsonl = tmp.resolve("train_sft.jsonl");
        Files.writeString(jsonl, "{\"prompt\": \"p\", \"messages\": [{\"content\": \"Hi. \", \"role\": \"user\"}, {\"content\": \"Hello!\", \"role\": \"assistant\"}]}\n");
        Path hub = tmp.resolve("hub");
        cache(hub, "HuggingFaceH4/ultrachat_200k", "u1", "data/train_sft-00000-of-00001.jsonl", jsonl);
        DatasetProvider.Loaded loaded = new HfDatasetProvider(Map.of()).open("ultrachat_200k",
                Map.of("apply_chat_template", "true"), new ReversingContext(List.of(hub), false));
        assertFalse(loaded.applyChatTemplate());
        assertEquals(List.of(Map.of("role", "user", "content", "Hi. "), Map.of("role", "assistant", "content", "Hello!")),
                loaded.records().get(0).messages());
    }

    @Test
    void streamedDatasetsReadOnlyTheRowsTheStreamOrderReaches() throws Exception {
        Path hub = tmp.resolve("hub");
        cache(hub, "BAAI/CCI3-HQ", "c1", "data/part_000000.parquet", fixture("pile-10k-train.parquet"));
        cache(hub, "BAAI/CCI3-HQ", "c1", "data/part_000001.parquet", fixture("mbpp-test.parquet"));
        ReversingContext ctx = new ReversingContext(List.of(hub), false);
        DatasetProvider.Loaded loaded = new HfDatasetProvider(Map.of()).open("CCI3-HQ", Map.of(), ctx);
        assertEquals(List.of("stream:[20, 6] buffer 1000 take 10000"), ctx.calls);
        List<String> texts = loaded.records().stream().map(CalibrationRecord::text).toList();
        assertEquals(26, texts.size());
        assertEquals("Write a function number 5.", texts.get(0), "last row of the second file first (reversed order)");
        assertTrue(texts.get(25).startsWith("pile document 0 "));
    }

    @Test
    void pileValBackupReadsZstdCompressedJsonLines() throws Exception {
        Path zst = tmp.resolve("val.jsonl.zst");
        try (OutputStream o = new com.github.luben.zstd.ZstdOutputStream(Files.newOutputStream(zst))) {
            for (int i = 0; i < 3; i++) {
                o.write(("{\"text\": \"validation text " + i + "\", \"meta\": {\"pile_set_name\": \"x\"}}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        Path hub = tmp.resolve("hub");
        cache(hub, "mit-han-lab/pile-val-backup", "v1", "val.jsonl.zst", zst);
        ReversingContext ctx = new ReversingContext(List.of(hub), false);
        DatasetProvider.Loaded loaded = new HfDatasetProvider(Map.of()).open("pile-val-backup", Map.of(), ctx);
        assertEquals(List.of("validation text 2", "validation text 1", "validation text 0"),
                loaded.records().stream().map(CalibrationRecord::text).toList());
        assertEquals(List.of("stream:[3] buffer 1000 take 10000"), ctx.calls);
    }

    @Test
    void downloadsIntoTheHubCacheLayoutWhenOnline() throws Exception {
        String commit = "f00d00000000000000000000000000000000f00d";
        byte[] parquet = Files.readAllBytes(fixture("pile-10k-train.parquet"));
        try (FakeHub server = new FakeHub()) {
            server.addRepo(RepoType.DATASET, "NeelNanda/pile-10k", commit, false,
                    FakeHub.text(".gitattributes", "*.parquet filter=lfs\n"), FakeHub.text("README.md", "# card"),
                    new FakeHub.RepoFile("data/train-00000-of-00001.parquet", parquet, true));
            Path hub = tmp.resolve("hub");
            Map<String, String> env = Map.of("HF_ENDPOINT", server.endpoint().toString(), "HF_TOKEN", "tok",
                    "HF_HOME", tmp.resolve("hf-home").toString());
            DatasetProvider.Loaded loaded = new HfDatasetProvider(env).open("NeelNanda/pile-10k", Map.of(), new ReversingContext(List.of(hub), true));
            assertEquals(20, loaded.records().size());
            assertTrue(loaded.source().contains("downloaded"));
            assertEquals(commit, Files.readString(hub.resolve("datasets--NeelNanda--pile-10k/refs/main")));
            assertTrue(Files.isRegularFile(hub.resolve("datasets--NeelNanda--pile-10k/snapshots/" + commit + "/data/train-00000-of-00001.parquet")));
            assertEquals(1, server.requestsTo("/api/").size());
            assertEquals("Bearer tok", server.requestsTo("/api/").get(0).authorization());
            assertTrue(server.requestsTo("/datasets/NeelNanda/pile-10k/resolve/").stream().noneMatch(r -> r.path().contains("README")),
                    "only the data files of the split");
            // a second run finds it in the cache without the network
            assertTrue(new HfDatasetProvider(Map.of()).availableOffline("NeelNanda/pile-10k", new ReversingContext(List.of(hub), false)));
        }
    }

    @Test
    void splitFileMatching() {
        assertTrue(HubCache.matchesSplit("data/train-00000-of-00001.parquet", "train", null));
        assertTrue(HubCache.matchesSplit("train.jsonl", "train", null));
        assertTrue(HubCache.matchesSplit("validation/0000.parquet", "validation", null));
        assertFalse(HubCache.matchesSplit("data/train_gen-0000.parquet", "train_sft", null));
        assertTrue(HubCache.matchesSplit("data/ultrafineweb_en/part-0001.parquet", "en", "ultrafineweb_en"));
        assertFalse(HubCache.isDataFile("dataset_infos.json"));
        assertEquals(List.of("a.parquet", "b.parquet"), HubCache.splitFiles(List.of("a.parquet", "b.parquet"), "train", null, true));
    }

    static byte[] read(InputStream in) throws IOException {
        return in.readAllBytes();
    }
}
