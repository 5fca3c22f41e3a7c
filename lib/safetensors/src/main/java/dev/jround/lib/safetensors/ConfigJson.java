package dev.jround.lib.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.ModelConfig;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a model directory's {@code config.json} into the SPI's plain-valued {@link ModelConfig}, and converts between
 * it and Jackson trees for code that edits and writes configs. The conversion is exact both ways (numbers keep their
 * Java type, key order is kept), so a config read, converted and written again is byte-identical.
 */
public final class ConfigJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigJson() {
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) {
            throw new InvalidInputException("no config.json in " + dir,
                    "a Hugging Face model directory has config.json next to its *.safetensors");
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            if (!(n instanceof ObjectNode o)) {
                throw new CorruptInputException(f + " is not a JSON object", null);
            }
            return config(dir, o);
        } catch (IOException e) {
            throw CorruptInputException.unparsable(f, e, "config.json must be valid JSON");
        }
    }

    /** A config of a parsed JSON object. */
    public static ModelConfig config(Path dir, ObjectNode json) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) plain(json);
        return ModelConfig.of(dir, m);
    }

    /** The config as a fresh, editable Jackson object. */
    public static ObjectNode tree(ModelConfig config) {
        return (ObjectNode) node(config.values());
    }

    /** A plain value (map, list, scalar) as a Jackson node. */
    public static JsonNode node(Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v == null) {
            return f.nullNode();
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            m.forEach((k, x) -> o.set(String.valueOf(k), node(x)));
            return o;
        }
        if (v instanceof List<?> l) {
            ArrayNode a = f.arrayNode();
            l.forEach(x -> a.add(node(x)));
            return a;
        }
        if (v instanceof String s) {
            return f.textNode(s);
        }
        if (v instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (v instanceof Integer i) {
            return f.numberNode(i);
        }
        if (v instanceof Long l) {
            return f.numberNode(l);
        }
        if (v instanceof BigInteger b) {
            return f.numberNode(b);
        }
        if (v instanceof Float x) {
            return f.numberNode(x);
        }
        if (v instanceof BigDecimal d) {
            return f.numberNode(d);
        }
        if (v instanceof Number n) {
            return f.numberNode(n.doubleValue());
        }
        throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    /** A Jackson node as plain values (the representation {@link ModelConfig} holds). */
    public static Object plain(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> m.put(e.getKey(), plain(e.getValue())));
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>(n.size());
            n.forEach(x -> l.add(plain(x)));
            return l;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isNumber()) {
            return n.numberValue();
        }
        return n.asText();
    }
}
