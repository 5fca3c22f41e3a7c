package dev.jround.kernel.hub;

import dev.jround.lib.hub.DownloadProgress;
import dev.jround.lib.hub.HubCache;
import dev.jround.lib.hub.HubClient;
import dev.jround.lib.hub.HubSettings;
import dev.jround.lib.hub.ModelFiles;
import dev.jround.spi.InvalidInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Turns a {@code --model} argument into a local model directory. In order: an existing local directory; a
 * Hugging Face repo id whose snapshot in the hub cache is complete (no network); a download into that cache
 * when the network is allowed; otherwise an error that says what was looked for and how to fix it.
 */
public final class ModelSource {

    private final HubSettings settings;
    private final HubCache cache;
    private final DownloadProgress progress;

    public ModelSource(HubSettings settings, DownloadProgress progress) {
        this.settings = settings;
        this.cache = new HubCache(settings.cacheDir());
        this.progress = progress;
    }

    /** A source configured from this process's environment, drawing download progress on stderr. */
    public static ModelSource fromEnvironment() {
        return new ModelSource(HubSettings.fromEnvironment(), DownloadProgress.console());
    }

    public HubSettings settings() {
        return settings;
    }

    /** {@link #resolve(String, String)} at the default branch {@code main}. */
    public Path resolve(String modelArg) {
        return resolve(modelArg, null);
    }

    /**
     * @param modelArg a directory, or a repo id such as {@code Qwen/Qwen3-0.6B} (a trailing '/' is ignored)
     * @param revision branch, tag or commit for repo ids; {@code null} means {@code main}
     */
    public Path resolve(String modelArg, String revision) {
        if (modelArg == null || modelArg.isBlank()) {
            throw new InvalidInputException("no model given", "give a local model directory or a Hugging Face repo id such as Qwen/Qwen3-0.6B");
        }
        String arg = modelArg.strip();
        while (arg.length() > 1 && arg.endsWith("/")) {
            arg = arg.substring(0, arg.length() - 1);
        }
        Path local = arg.equals("~") ? Path.of(System.getProperty("user.home"))
                : arg.startsWith("~/") ? Path.of(System.getProperty("user.home"), arg.substring(2)) : Path.of(arg);
        if (Files.isDirectory(local)) {
            return local;
        }
        if (Files.exists(local)) {
            throw new InvalidInputException("model path " + local + " is a file", "give the directory that holds config.json and the *.safetensors weights");
        }
        if (!HubCache.isRepoId(arg) || arg.startsWith(".")) {
            throw new InvalidInputException("model path does not exist: " + arg,
                    "give a local directory with config.json and *.safetensors, or a Hugging Face repo id such as Qwen/Qwen3-0.6B");
        }
        String rev = revision == null ? "main" : revision;
        Optional<Path> cached = cache.findModel(arg, rev);
        List<String> missing = cached.map(ModelFiles::missing).orElse(List.of("the whole snapshot"));
        if (cached.isPresent() && missing.isEmpty()) {
            return cached.get();
        }
        if (settings.offline()) {
            String where = cached.map(p -> "the cached snapshot " + p + " lacks " + String.join(", ", missing))
                    .orElse("it is not in the Hugging Face cache " + settings.cacheDir());
            throw new InvalidInputException("model " + arg + (rev.equals("main") ? "" : " at revision " + rev)
                    + " is neither a local directory nor fully cached (" + where + "), and HF_HUB_OFFLINE is set",
                    "unset HF_HUB_OFFLINE to download it, run 'jround download " + arg + "' where there is network and copy "
                            + settings.cacheDir() + ", or point HF_HUB_CACHE / HF_HOME at a cache that has it");
        }
        return new HubClient(settings, progress).downloadModel(arg, rev);
    }
}
