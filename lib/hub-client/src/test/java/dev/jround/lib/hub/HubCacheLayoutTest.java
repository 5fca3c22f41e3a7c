package dev.jround.lib.hub;

import dev.jround.lib.hub.testing.FakeHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * jround fills the cache exactly as huggingface_hub does. The expected listing was recorded by running
 * huggingface_hub's snapshot_download against the same repo (tools/fixtures/hub/python_cache_layout.py).
 * Newer huggingface_hub also keeps {@code trees/<commit>.json}, a listing cache of its own that readers do not
 * need; it is left out of the comparison.
 */
@Timeout(60)
class HubCacheLayoutTest {

    @TempDir
    Path tmp;

    @Test
    void sameLayoutAsHuggingFaceHub() throws IOException {
        byte[] weights = new byte[256 * 40];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (byte) i;
        }
        Path cache = tmp.resolve("hub");
        try (FakeHub hub = new FakeHub()) {
            hub.addRepo(RepoType.MODEL, "acme/layout-check", "feedfacecafebeef0123456789abcdef01234567", false,
                    HubClientTest.text("config.json", "{\"model_type\": \"llama\"}"),
                    HubClientTest.text("tokenizer.json", "{\"version\": \"1.0\"}"),
                    new FakeHub.RepoFile("model.safetensors", weights, true),
                    HubClientTest.text("sub/extra.json", "{}"),
                    HubClientTest.text("README.md", "# not downloaded\n"));
            new HubClient(HubSettings.of(hub.endpoint(), cache), DownloadProgress.NONE, Duration.ofMillis(5), Duration.ofSeconds(5))
                    .download(RepoType.MODEL, "acme/layout-check", "main", f -> f.endsWith(".json") || f.endsWith(".safetensors"));
        }
        List<String> expected;
        try (InputStream in = getClass().getResourceAsStream("/hub/python-cache-layout.txt")) {
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("#") && !l.startsWith("F trees/")).toList();
        }
        assertEquals(expected, listing(cache.resolve("models--acme--layout-check")));
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(p -> Files.isSymbolicLink(p) || Files.isRegularFile(p)).map(p -> {
                String rel = folder.relativize(p).toString();
                try {
                    return Files.isSymbolicLink(p) ? "L " + rel + " -> " + Files.readSymbolicLink(p)
                            : "F " + rel + " " + HubClient.digest(p, "SHA-256", null);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
        }
    }
}
