package dev.jround.plugin.dataset.hf;

import dev.jround.lib.hub.DownloadProgress;
import dev.jround.lib.hub.HubClient;
import dev.jround.lib.hub.HubSettings;
import dev.jround.lib.hub.RepoType;
import dev.jround.spi.JroundException;
import dev.jround.spi.data.DatasetContext;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Downloads dataset files into the hub cache with the shared hub client ({@link HubClient}), so datasets get
 * what models get: the server's file names and commit checked before they name a path, every file verified
 * (sha256, git blob sha1, size) before it enters the cache, {@code HF_ENDPOINT}, {@code HF_TOKEN}, proxies
 * and offline mode as the Python tools read them. Warnings (a file the server sent no hash for) go to the
 * run's output.
 */
final class HubDownloader {

    private final Map<String, String> env;

    HubDownloader(Map<String, String> env) {
        this.env = env;
    }

    /**
     * Lists the repository at {@code main}, downloads up to {@code maxFiles} of the data files {@code wanted}
     * accepts (in name order) into {@code hubCache}, and returns the snapshot folder.
     */
    Path download(String repo, Path hubCache, Predicate<String> wanted, int maxFiles, DatasetContext ctx) {
        HubSettings base = HubSettings.fromEnvironment(env, Path.of(System.getProperty("user.home")));
        HubSettings settings = base.withCacheDir(hubCache).withOffline(base.offline() || !ctx.online());
        HubClient client = new HubClient(settings, progress(ctx));
        return client.downloadSelected(RepoType.DATASET, repo, "main", listed -> {
            List<String> files = listed.stream().filter(f -> HubCache.isDataFile(f) && wanted.test(f)).sorted().toList();
            if (files.isEmpty()) {
                throw new JroundException("dataset " + repo + " has no Parquet/JSON data files for the requested split",
                        "use a local file instead");
            }
            return files.subList(0, Math.min(maxFiles, files.size()));
        });
    }

    /** The console bar for the transfer; warnings through the context, where the run prints its notes. */
    private static DownloadProgress progress(DatasetContext ctx) {
        DownloadProgress bar = DownloadProgress.console();
        return new DownloadProgress() {
            @Override
            public void start(String file, long total, long alreadyHave) {
                bar.start(file, total, alreadyHave);
            }

            @Override
            public void advance(long bytes) {
                bar.advance(bytes);
            }

            @Override
            public void finish() {
                bar.finish();
            }

            @Override
            public void warning(String line) {
                ctx.info("warning: " + line);
            }
        };
    }
}
