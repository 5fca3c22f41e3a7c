package dev.jround.spi.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A model's {@code config.json} plus the directory it came from. */
public final class ModelConfig {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final ObjectNode json;

    public ModelConfig(Path directory, ObjectNode json) {
        this.directory = directory;
        this.json = json;
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) {
            throw new InvalidInputException("no config.json in " + dir, "a Hugging Face model directory has config.json next to its *.safetensors");
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            if (!(n instanceof ObjectNode o)) {
                throw new CorruptInputException(f + " is not a JSON object", null);
            }
            return new ModelConfig(dir, o);
        } catch (IOException e) {
            throw CorruptInputException.unparsable(f, e, "config.json must be valid JSON");
        }
    }

    public Path directory() {
        return directory;
    }

    /** The raw JSON (a copy; edits do not change this config). */
    public ObjectNode json() {
        return json.deepCopy();
    }

    public String modelType() {
        return json.path("model_type").asText("");
    }

    public List<String> architectures() {
        List<String> r = new ArrayList<>();
        json.path("architectures").forEach(a -> r.add(a.asText()));
        return r;
    }

    public boolean has(String key) {
        return json.has(key) && !json.get(key).isNull();
    }

    public int getInt(String key, int dflt) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? dflt : n.asInt();
    }

    public int requireInt(String key) {
        JsonNode n = json.get(key);
        if (n == null || n.isNull() || !n.isNumber()) {
            throw new CorruptInputException(directory + "/config.json lacks the integer '" + key + "'", null);
        }
        return n.asInt();
    }

    public double getDouble(String key, double dflt) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? dflt : n.asDouble();
    }

    public boolean getBoolean(String key, boolean dflt) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? dflt : n.asBoolean();
    }

    public String getString(String key, String dflt) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    public JsonNode get(String key) {
        return json.get(key);
    }
}
