package dev.jround.lib.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The environment and naming rules the client shares with the Python tools, and which server names it refuses. */
class HubSettingsTest {

    @TempDir
    Path tmp;

    @Test
    void settingsFollowTheHuggingFaceEnvironment() throws IOException {
        Path home = tmp.resolve("home");
        HubSettings defaults = HubSettings.fromEnvironment(Map.of(), home);
        assertEquals(home.resolve(".cache/huggingface/hub"), defaults.cacheDir());
        assertEquals("https://huggingface.co", defaults.endpoint().toString());
        assertEquals(null, defaults.token());
        assertEquals(false, defaults.offline());

        assertEquals(Path.of("/x/cache/huggingface/hub"), HubSettings.fromEnvironment(Map.of("XDG_CACHE_HOME", "/x/cache"), home).cacheDir());
        assertEquals(Path.of("/h/hub"), HubSettings.fromEnvironment(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), home).cacheDir());
        assertEquals(Path.of("/c"), HubSettings.fromEnvironment(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), home).cacheDir());
        assertEquals(home.resolve("hfc"), HubSettings.fromEnvironment(Map.of("HF_HUB_CACHE", "~/hfc"), home).cacheDir());

        HubSettings s = HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.com/", "HF_TOKEN", " hf_abc\n",
                "HF_HUB_OFFLINE", "1"), home);
        assertEquals("https://hf-mirror.com", s.endpoint().toString());
        assertEquals("hf_abc", s.token());
        assertTrue(s.offline());
        assertTrue(!s.toString().contains("hf_abc"), "the token never shows in messages");
        for (String yes : List.of("1", "true", "YES", "on")) {
            assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", yes), home).offline(), yes);
        }
        for (String no : List.of("0", "false", "")) {
            assertTrue(!HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", no), home).offline(), no);
        }

        Path hfHome = Files.createDirectories(tmp.resolve("hfhome"));
        Files.writeString(hfHome.resolve("token"), "hf_from_file\n");
        assertEquals("hf_from_file", HubSettings.fromEnvironment(Map.of("HF_HOME", hfHome.toString()), home).token());
    }

    @Test
    void repoIdRules() {
        for (String ok : List.of("Qwen/Qwen3-0.6B", "facebook/opt-125m", "gpt2", "a_b/c.d-e")) {
            assertTrue(HubCache.isRepoId(ok), ok);
        }
        for (String bad : List.of("", "a/b/c", "a--b/c", "a/..b", "/abs", "a/", "a b/c", "a/b.git", "-a/b")) {
            assertTrue(!HubCache.isRepoId(bad), bad);
        }
        assertEquals("models--Qwen--Qwen3-0.6B", RepoType.MODEL.folderName("Qwen/Qwen3-0.6B"));
        assertEquals("datasets--NeelNanda--pile-10k", RepoType.DATASET.folderName("NeelNanda/pile-10k"));
    }

    @Test
    void unsafeNamesFromAServerAreRecognised() {
        for (String ok : List.of("data/train-00000-of-00001.parquet", "config.json", "a/b/c.txt", "x..y", ".gitattributes")) {
            assertTrue(HubCache.isSafeFileName(ok), ok);
        }
        for (String bad : List.of("", "../../x", "a/../../x", "/etc/passwd", "a\\b", "C:/x", "c:x", "a//b", "./a", "a/.", "a/", "a\nb")) {
            assertFalse(HubCache.isSafeFileName(bad), bad);
        }
        assertTrue(HubCache.isCommit("0123456789abcdef0123456789abcdef01234567"));
        for (String bad : List.of("../../x", "f00d", "0123456789ABCDEF0123456789ABCDEF01234567", "0123456789abcdef0123456789abcdef012345678")) {
            assertFalse(HubCache.isCommit(bad), bad);
        }
    }
}
