package dev.jround.lib.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Which files of a model repository jround needs: the small top-level configuration and tokenizer files,
 * and exactly one set of safetensors weights (the shards the index names; else {@code model.safetensors};
 * else every top-level {@code *.safetensors}). Duplicate weight formats ({@code *.bin}, {@code *.pth},
 * {@code original/}, {@code consolidated.safetensors} next to an index) are skipped.
 */
public final class ModelFiles {

    public static final String INDEX = "model.safetensors.index.json";
    private static final List<String> SUPPORT_SUFFIXES = List.of(".json", ".txt", ".model", ".jinja", ".tiktoken", ".py");

    private ModelFiles() {
    }

    /** Configuration, tokenizer, chat template and remote-code files at the top of the repo. */
    public static boolean isSupportFile(String file) {
        String lower = file.toLowerCase(Locale.ROOT);
        return !file.contains("/") && SUPPORT_SUFFIXES.stream().anyMatch(lower::endsWith);
    }

    /** The weight files to fetch, given the repo's file list and a snapshot that already holds the support files. */
    public static List<String> weightFiles(Collection<String> repoFiles, Path snapshot) {
        if (repoFiles.contains(INDEX)) {
            return new ArrayList<>(indexedShards(snapshot.resolve(INDEX)));
        }
        if (repoFiles.contains("model.safetensors")) {
            return List.of("model.safetensors");
        }
        return repoFiles.stream().filter(f -> !f.contains("/") && f.endsWith(".safetensors")).sorted().toList();
    }

    static TreeSet<String> indexedShards(Path index) {
        TreeSet<String> shards = new TreeSet<>();
        try {
            JsonNode map = new ObjectMapper().readTree(index.toFile()).get("weight_map");
            if (map == null || !map.isObject()) {
                throw new CorruptInputException(index + " has no weight_map object", "re-download the model");
            }
            map.elements().forEachRemaining(v -> shards.add(v.asText()));
        } catch (IOException e) {
            throw new CorruptInputException("cannot parse " + index + ": " + e.getMessage().lines().findFirst().orElse(""),
                    "re-download the model");
        }
        return shards;
    }

    /** Files a model snapshot still lacks before jround can load it; empty when it looks complete. */
    public static List<String> missing(Path snapshot) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(snapshot.resolve("config.json"))) {
            missing.add("config.json");
        }
        Path index = snapshot.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            for (String shard : indexedShards(index)) {
                if (!Files.isRegularFile(snapshot.resolve(shard))) {
                    missing.add(shard);
                }
            }
        } else {
            try (Stream<Path> s = Files.list(snapshot)) {
                if (s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))) {
                    missing.add("*.safetensors");
                }
            } catch (IOException e) {
                missing.add("*.safetensors");
            }
        }
        return missing;
    }
}
