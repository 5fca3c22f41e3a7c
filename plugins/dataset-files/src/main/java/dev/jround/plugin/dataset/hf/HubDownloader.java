package dev.jround.plugin.dataset.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.JroundException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Downloads dataset files from the Hugging Face hub into the hub cache layout ({@code refs/main},
 * {@code snapshots/<commit>/<file>}), so that later runs, and the Python tools, find them offline. Honours
 * {@code HF_ENDPOINT} and {@code HF_TOKEN}. Files are written to a temporary name and moved into place.
 */
final class HubDownloader {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String endpoint;
    private final String token;
    private final HttpClient http;

    HubDownloader(Map<String, String> env) {
        String ep = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        this.endpoint = ep.endsWith("/") ? ep.substring(0, ep.length() - 1) : ep;
        String t = env.get("HF_TOKEN");
        this.token = t == null || t.isBlank() ? null : t.strip();
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    private HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("User-Agent", "jround-dataset-hf");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /**
     * Fetches the repository's file list at {@code main}, downloads up to {@code maxFiles} of the data files
     * {@code wanted} accepts (in name order), and returns the snapshot folder.
     */
    Path download(String repo, Path hubCache, Predicate<String> wanted, int maxFiles) {
        String api = endpoint + "/api/datasets/" + repo + "/revision/main";
        JsonNode info;
        try {
            HttpResponse<InputStream> r = http.send(request(api).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new JroundException("Hugging Face hub answered " + r.statusCode() + " for dataset " + repo
                            + " (" + api + ")", r.statusCode() == 401 || r.statusCode() == 403
                            ? "the dataset may be gated: set HF_TOKEN" : "check the dataset name and HF_ENDPOINT");
                }
                info = JSON.readTree(in);
            }
        } catch (IOException e) {
            throw new JroundException("cannot reach the Hugging Face hub for dataset " + repo + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                    "work offline with HF_HUB_OFFLINE=1 and a local file, or check the network / HF_ENDPOINT", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JroundException("download of " + repo + " interrupted");
        }
        String sha = info.path("sha").asText(null);
        if (sha == null || sha.isBlank()) {
            throw new JroundException("Hugging Face hub gave no commit for dataset " + repo, "check HF_ENDPOINT");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) {
            String name = s.path("rfilename").asText();
            if (HubCache.isDataFile(name) && wanted.test(name)) {
                files.add(name);
            }
        }
        files.sort(null);
        if (files.isEmpty()) {
            throw new JroundException("dataset " + repo + " has no Parquet/JSON data files for the requested split",
                    "use a local file instead");
        }
        Path repoDir = hubCache.resolve(HubCache.folderName(repo));
        Path snapshot = repoDir.resolve("snapshots").resolve(sha);
        try {
            for (String f : files.subList(0, Math.min(maxFiles, files.size()))) {
                Path target = snapshot.resolve(f);
                if (Files.isRegularFile(target)) {
                    continue;
                }
                Files.createDirectories(target.getParent());
                String url = endpoint + "/datasets/" + repo + "/resolve/" + sha + "/"
                        + URLEncoder.encode(f, StandardCharsets.UTF_8).replace("%2F", "/").replace("+", "%20");
                Path tmp = target.resolveSibling(target.getFileName() + ".incomplete");
                HttpResponse<Path> r = http.send(request(url).GET().build(), HttpResponse.BodyHandlers.ofFile(tmp));
                if (r.statusCode() != 200) {
                    Files.deleteIfExists(tmp);
                    throw new JroundException("download of " + url + " failed with HTTP " + r.statusCode(),
                            "retry, or set HF_TOKEN for gated datasets");
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.createDirectories(repoDir.resolve("refs"));
            Files.writeString(repoDir.resolve("refs").resolve("main"), sha);
        } catch (IOException e) {
            throw new JroundException("cannot write dataset " + repo + " into the cache " + hubCache + ": " + e.getMessage(),
                    "check that HF_HUB_CACHE / HF_HOME is writable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JroundException("download of " + repo + " interrupted");
        }
        return snapshot;
    }
}
