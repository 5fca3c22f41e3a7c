package dev.jround.plugin.dataset.hf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds dataset files in a Hugging Face hub cache as {@code huggingface_hub} lays it out:
 * {@code <root>/datasets--<owner>--<name>/refs/main} names a commit, whose files sit under
 * {@code snapshots/<commit>/} (usually symbolic links into {@code blobs/}).
 */
final class HubCache {

    private static final List<String> DATA_SUFFIXES = List.of(".parquet", ".jsonl", ".json", ".jsonl.zst");
    private static final List<String> PREFERRED_CONFIG_DIRS = List.of("default", "data", "full", "plain_text");

    private HubCache() {
    }

    static String folderName(String repo) {
        return "datasets--" + repo.replace("/", "--");
    }

    /** The snapshot {@code refs/main} points at, else the most recently modified snapshot, in the first root that has one. */
    static Optional<Path> snapshot(List<Path> roots, String repo) {
        for (Path root : roots) {
            Path dir = root.resolve(folderName(repo));
            Path snapshots = dir.resolve("snapshots");
            if (!Files.isDirectory(snapshots)) {
                continue;
            }
            try {
                Path ref = dir.resolve("refs").resolve("main");
                String commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : "";
                // a ref names a folder only when it is a commit hash, so a tampered ref cannot point elsewhere
                if (dev.jround.lib.hub.HubCache.isCommit(commit)) {
                    Path s = snapshots.resolve(commit);
                    if (Files.isDirectory(s)) {
                        return Optional.of(s);
                    }
                }
                try (Stream<Path> list = Files.list(snapshots)) {
                    Optional<Path> newest = list.filter(Files::isDirectory)
                            .max(Comparator.comparing(p -> p.toFile().lastModified()));
                    if (newest.isPresent()) {
                        return newest;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read Hugging Face cache " + dir, e);
            }
        }
        return Optional.empty();
    }

    /** Data files of a snapshot, as paths relative to it with '/' separators, sorted. */
    static List<String> dataFiles(Path snapshot) {
        try (Stream<Path> walk = Files.walk(snapshot, FileVisitOption.FOLLOW_LINKS)) {
            return walk.filter(Files::isRegularFile)
                    .map(p -> snapshot.relativize(p).toString().replace('\\', '/'))
                    .filter(HubCache::isDataFile)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + snapshot, e);
        }
    }

    static boolean isDataFile(String rel) {
        String lower = rel.toLowerCase(Locale.ROOT);
        String base = lower.substring(lower.lastIndexOf('/') + 1);
        if (base.startsWith(".") || base.startsWith("dataset_info") || base.startsWith("dataset_infos")
                || base.equals("config.json") || base.endsWith("_meta.json") || base.equals("metadata.json")) {
            return false;
        }
        return DATA_SUFFIXES.stream().anyMatch(lower::endsWith);
    }

    /**
     * The files of one split: a path component equal to the split (or to the dataset's hint for it), or a file
     * name starting with {@code <split>-}, {@code <split>_} or {@code <split>.}. When several config folders
     * match (e.g. {@code full/} and {@code sanitized/}), the default-looking one wins. When nothing matches
     * and {@code onlySplit} (the dataset has this one split), every data file is taken.
     */
    static List<String> splitFiles(List<String> files, String split, String hint, boolean onlySplit) {
        List<String> matched = new ArrayList<>();
        for (String f : files) {
            if (matchesSplit(f, split, hint)) {
                matched.add(f);
            }
        }
        if (matched.isEmpty()) {
            return onlySplit ? files : List.of();
        }
        Map<String, List<String>> byTop = new LinkedHashMap<>();
        for (String f : matched) {
            int slash = f.indexOf('/');
            byTop.computeIfAbsent(slash < 0 ? "" : f.substring(0, slash), k -> new ArrayList<>()).add(f);
        }
        if (byTop.size() == 1) {
            return matched;
        }
        for (String pref : PREFERRED_CONFIG_DIRS) {
            if (byTop.containsKey(pref)) {
                return byTop.get(pref);
            }
        }
        return byTop.values().iterator().next();
    }

    static boolean matchesSplit(String rel, String split, String hint) {
        String[] parts = rel.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equals(split) || (hint != null && parts[i].equals(hint))) {
                return true;
            }
        }
        String base = parts[parts.length - 1];
        for (String sep : List.of("-", "_", ".")) {
            if (base.startsWith(split + sep)) {
                return true;
            }
        }
        return hint != null && base.contains(hint);
    }
}
