package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * All safetensors files of a Hugging Face model directory, single-file or sharded with
 * {@code model.safetensors.index.json}, seen as one {@link TensorStore}.
 */
public final class SafetensorsCheckpoint implements TensorStore {

    public static final String INDEX = "model.safetensors.index.json";

    private final List<SafetensorsFile> files = new ArrayList<>();
    private final Map<String, SafetensorsFile> byName = new LinkedHashMap<>();

    private SafetensorsCheckpoint() {
    }

    /**
     * Opens a directory or a single .safetensors file. In a directory the first that exists wins:
     * {@code model.safetensors.index.json}; the only {@code *.safetensors.index.json}; {@code model.safetensors};
     * every {@code *.safetensors} file.
     */
    public static SafetensorsCheckpoint open(Path dirOrFile) {
        SafetensorsCheckpoint c = new SafetensorsCheckpoint();
        try {
            if (Files.isRegularFile(dirOrFile)) {
                c.add(SafetensorsFile.open(dirOrFile));
                return c;
            }
            if (!Files.isDirectory(dirOrFile)) {
                throw new InvalidInputException("model path does not exist: " + dirOrFile,
                        "give a directory with config.json and *.safetensors, or a Hugging Face repo id");
            }
            List<Path> indexes;
            List<Path> weights;
            try (Stream<Path> s = Files.list(dirOrFile)) {
                List<Path> all = s.sorted().toList();
                indexes = all.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors.index.json")).toList();
                weights = all.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
            }
            Path index = dirOrFile.resolve(INDEX);
            if (!Files.isRegularFile(index) && indexes.size() == 1) {
                index = indexes.get(0);
            }
            if (Files.isRegularFile(index)) {
                c.openIndexed(dirOrFile, index);
                return c;
            }
            Path single = dirOrFile.resolve("model.safetensors");
            if (Files.isRegularFile(single)) {
                weights = List.of(single);
            }
            if (weights.isEmpty()) {
                throw new InvalidInputException("no *.safetensors weights in " + dirOrFile,
                        "jround reads safetensors checkpoints; convert .bin/.pt weights with transformers' save_pretrained(safe_serialization=True)");
            }
            for (Path p : weights) {
                c.add(SafetensorsFile.open(p));
            }
            return c;
        } catch (IOException e) {
            c.close();
            throw new CorruptInputException("cannot list " + dirOrFile + ": " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void openIndexed(Path dir, Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new CorruptInputException("cannot parse " + index + ": " + e.getMessage().split("\n")[0],
                    "the index must be JSON with a weight_map object");
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CorruptInputException(index + " has no weight_map object", "the index must be JSON with a weight_map object");
        }
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            String tensor = e.getKey();
            if (!e.getValue().isTextual()) {
                throw new CorruptInputException(index + " maps tensor '" + tensor + "' to " + e.getValue() + ", not a file name",
                        "weight_map values are shard file names");
            }
            String shard = e.getValue().asText();
            SafetensorsFile f = opened.get(shard);
            if (f == null) {
                Path base = dir.toAbsolutePath().normalize();
                Path p = base.resolve(shard).normalize();
                if (shard.isEmpty() || !base.equals(p.getParent())) {
                    throw new CorruptInputException(index + " maps tensor '" + tensor + "' to '" + shard
                            + "', which is not a file name in " + dir, "weight_map values are shard file names");
                }
                if (!Files.isRegularFile(p)) {
                    throw new CorruptInputException(index + " maps tensor '" + tensor + "' to shard '" + shard
                            + "', which does not exist", "re-download or re-export the missing shard " + p);
                }
                f = SafetensorsFile.open(p);
                opened.put(shard, f);
                add(f);
            }
            if (!f.contains(tensor)) {
                throw new CorruptInputException(index + " maps tensor '" + tensor + "' to " + shard + ", which does not contain it",
                        "the index and the shards come from different exports; re-download or re-export them together");
            }
        }
    }

    private void add(SafetensorsFile f) {
        files.add(f);
        for (String n : f.names()) {
            SafetensorsFile prev = byName.putIfAbsent(n, f);
            if (prev != null && prev != f) {
                throw new CorruptInputException("tensor '" + n + "' appears in both " + prev.path() + " and " + f.path(), null);
            }
        }
    }

    public List<SafetensorsFile> files() {
        return Collections.unmodifiableList(files);
    }

    @Override
    public Collection<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        SafetensorsFile f = byName.get(name);
        return f == null ? Optional.empty() : f.info(name);
    }

    @Override
    public HostTensor get(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new InvalidInputException("tensor '" + name + "' not found in the checkpoint", "the checkpoint has " + byName.size() + " tensors");
        }
        return f.get(name);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
