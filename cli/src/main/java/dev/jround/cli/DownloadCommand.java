package dev.jround.cli;

import dev.jround.lib.hub.DownloadProgress;
import dev.jround.lib.hub.HubClient;
import dev.jround.lib.hub.HubSettings;
import dev.jround.lib.hub.RepoType;
import dev.jround.spi.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * {@code jround download REPO_ID}: fills the Hugging Face hub cache (the one the Python tools use) and prints
 * the snapshot directory, which {@code --model} accepts as it is (or by repo id, then without network).
 */
@Command(name = "download", description = {
        "Download a Hugging Face repo into the local hub cache and print its snapshot directory.",
        "Models get their config, tokenizer and safetensors weights; --include or --all choose other files.",
        "Honours HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE."})
public final class DownloadCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REPO_ID", description = "owner/name, e.g. Qwen/Qwen3-0.6B")
    String repoId;

    @Option(names = "--revision", paramLabel = "R", defaultValue = "main", description = "branch, tag or commit (default: ${DEFAULT-VALUE})")
    String revision;

    @Option(names = "--repo-type", paramLabel = "TYPE", defaultValue = "model", description = "model or dataset (default: ${DEFAULT-VALUE})")
    String repoType;

    @Option(names = "--include", paramLabel = "GLOB", description = "download only files matching this pattern (repeatable; '*' also matches '/'), e.g. '*.json'")
    List<String> include;

    @Option(names = "--all", description = "download every file of the repo")
    boolean all;

    @Override
    public Integer call() {
        RepoType type = switch (repoType.toLowerCase(java.util.Locale.ROOT)) {
            case "model" -> RepoType.MODEL;
            case "dataset" -> RepoType.DATASET;
            default -> throw new InvalidInputException("unknown --repo-type '" + repoType + "'", "use model or dataset");
        };
        String id = repoId.endsWith("/") ? repoId.substring(0, repoId.length() - 1) : repoId;
        HubSettings settings = HubSettings.fromEnvironment();
        HubClient client = new HubClient(settings, DownloadProgress.console());
        Optional<Path> cached = type == RepoType.MODEL ? client.cache().findModel(id, revision) : client.cache().findDataset(id, revision);
        Path snapshot;
        if (settings.offline() && cached.isPresent()) {
            snapshot = cached.get();
        } else if (include != null && !include.isEmpty()) {
            snapshot = client.download(type, id, revision, globs(include));
        } else if (all || type == RepoType.DATASET) {
            snapshot = client.download(type, id, revision, f -> true);
        } else {
            snapshot = client.downloadModel(id, revision);
        }
        spec.commandLine().getOut().println(snapshot.toAbsolutePath());
        return 0;
    }

    /** Shell-style patterns as huggingface_hub's allow_patterns read them: '*' and '?' also match '/'. */
    private static Predicate<String> globs(List<String> patterns) {
        List<Pattern> regexes = patterns.stream().map(DownloadCommand::globToRegex).toList();
        return file -> regexes.stream().anyMatch(r -> r.matcher(file).matches());
    }

    static Pattern globToRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }
}
