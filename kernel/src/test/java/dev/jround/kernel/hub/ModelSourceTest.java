package dev.jround.kernel.hub;

import dev.jround.lib.hub.DownloadProgress;
import dev.jround.lib.hub.HubSettings;
import dev.jround.lib.hub.RepoType;
import dev.jround.lib.hub.testing.FakeHub;
import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ModelSourceTest {

    static final String REPO = "acme/small";
    static final String COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path tmp;

    FakeHub hub;
    Path cacheDir;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        cacheDir = tmp.resolve("cache");
        hub.addRepo(RepoType.MODEL, REPO, COMMIT, false,
                FakeHub.text("config.json", "{\"model_type\":\"qwen3\"}"),
                FakeHub.text("tokenizer_config.json", "{}"),
                new FakeHub.RepoFile("model.safetensors", FakeHub.randomBytes(20_000, 5), true),
                new FakeHub.RepoFile("pytorch_model.bin", FakeHub.randomBytes(20_000, 6), true));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    ModelSource source(boolean offline) {
        return new ModelSource(HubSettings.of(hub.endpoint(), cacheDir).withOffline(offline), DownloadProgress.NONE);
    }

    @Test
    void downloadsOnceThenResolvesFromTheCacheWithoutNetwork() {
        Path first = source(false).resolve(REPO);
        assertEquals(cacheDir.resolve("models--acme--small/snapshots").resolve(COMMIT), first);
        assertTrue(Files.isRegularFile(first.resolve("model.safetensors")));
        assertTrue(Files.notExists(first.resolve("pytorch_model.bin")), "only the safetensors weights");
        int requests = hub.requests.size();

        assertEquals(first, source(false).resolve(REPO + "/"), "trailing slash ignored");
        assertEquals(first, source(false).resolve(REPO, COMMIT), "by commit");
        assertEquals(first, source(true).resolve(REPO), "offline from the cache");
        assertEquals(requests, hub.requests.size(), "no request once cached");
    }

    @Test
    void offlineWithoutCacheExplainsTheFix() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> source(true).resolve(REPO));
        assertTrue(e.getMessage().contains(REPO) && e.getMessage().contains("HF_HUB_OFFLINE")
                && e.getMessage().contains(cacheDir.toString()), e.getMessage());
        assertTrue(e.hint().contains("unset HF_HUB_OFFLINE") && e.hint().contains("jround download " + REPO), e.hint());
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void incompleteSnapshotIsCompletedOnlineAndReportedOffline() throws IOException {
        Path snapshot = source(false).resolve(REPO);
        Files.delete(snapshot.resolve("model.safetensors"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> source(true).resolve(REPO));
        assertTrue(e.getMessage().contains("lacks *.safetensors"), e.getMessage());
        assertEquals(snapshot, source(false).resolve(REPO));
        assertTrue(Files.isRegularFile(snapshot.resolve("model.safetensors")));
    }

    @Test
    void localDirectoryWinsAndBadPathsFailClearly() throws IOException {
        Path local = Files.createDirectories(tmp.resolve("acme/small"));
        assertEquals(local, source(false).resolve(local + "/"));
        assertEquals(List.of(), hub.requests, "a local directory never asks the Hub");

        InvalidInputException missing = assertThrows(InvalidInputException.class, () -> source(false).resolve(tmp.resolve("nope/a/b").toString()));
        assertTrue(missing.getMessage().contains("does not exist") && missing.hint().contains("repo id"), missing.getMessage());
        Path file = Files.writeString(tmp.resolve("weights.safetensors"), "x");
        InvalidInputException notDir = assertThrows(InvalidInputException.class, () -> source(false).resolve(file.toString()));
        assertTrue(notDir.getMessage().contains("is a file"), notDir.getMessage());
        assertThrows(InvalidInputException.class, () -> source(false).resolve(" "));
    }

    @Test
    void cacheWrittenByPythonToolsIsFound() throws IOException {
        // the layout huggingface_hub leaves behind: refs/main, a snapshot of symlinks, blobs named by etag
        Path repo = cacheDir.resolve("models--acme--python-made");
        Path blob = Files.createDirectories(repo.resolve("blobs")).resolve("a".repeat(64));
        Files.writeString(blob, "weights");
        Path cfg = repo.resolve("blobs").resolve("b".repeat(40));
        Files.writeString(cfg, "{}");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT));
        Files.createSymbolicLink(snap.resolve("model.safetensors"), Path.of("../../blobs/" + "a".repeat(64)));
        Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/" + "b".repeat(40)));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT, StandardCharsets.UTF_8);
        assertEquals(snap, source(true).resolve("acme/python-made"));
        assertEquals("weights", Files.readString(source(true).resolve("acme/python-made").resolve("model.safetensors")));
    }
}
