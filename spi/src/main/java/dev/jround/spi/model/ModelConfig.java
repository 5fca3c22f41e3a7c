package dev.jround.spi.model;

import dev.jround.spi.CorruptInputException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's {@code config.json} plus the directory it came from, as plain values: JSON objects are
 * {@code Map<String, Object>} (key order kept), arrays {@code List<Object>}, and strings, numbers
 * ({@code Integer}/{@code Long}/{@code BigInteger} or {@code Double}/{@code BigDecimal}), booleans and {@code null}
 * as themselves. No JSON library is part of the contract; readers and writers of the file live in the libraries
 * (lib/safetensors {@code ConfigJson}). Immutable: {@link #with} returns a changed copy.
 */
public final class ModelConfig {

    private final Path directory;
    private final Map<String, Object> values;

    private ModelConfig(Path directory, Map<String, Object> values) {
        this.directory = directory;
        this.values = values;
    }

    /** A config of {@code values} (deep-copied; maps, lists and scalars as described above) from {@code directory}. */
    public static ModelConfig of(Path directory, Map<String, ?> values) {
        @SuppressWarnings("unchecked")
        Map<String, Object> copy = (Map<String, Object>) freeze(values);
        return new ModelConfig(directory, copy);
    }

    private static Object freeze(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> r = new LinkedHashMap<>();
            m.forEach((k, x) -> r.put(String.valueOf(k), freeze(x)));
            return Collections.unmodifiableMap(r);
        }
        if (v instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            l.forEach(x -> r.add(freeze(x)));
            return Collections.unmodifiableList(r);
        }
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        throw new IllegalArgumentException("config values are maps, lists, strings, numbers, booleans or null, not "
                + v.getClass().getName());
    }

    public Path directory() {
        return directory;
    }

    /** Every top-level entry (unmodifiable, file order). */
    public Map<String, Object> values() {
        return values;
    }

    /** A copy with {@code key} set to {@code value} (null removes it), for derived configs and tests. */
    public ModelConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
        return of(directory, m);
    }

    /** A copy from another directory. */
    public ModelConfig withDirectory(Path dir) {
        return new ModelConfig(dir, values);
    }

    public String modelType() {
        return getString("model_type", "");
    }

    public List<String> architectures() {
        List<String> r = new ArrayList<>();
        getList("architectures").forEach(a -> r.add(String.valueOf(a)));
        return r;
    }

    /** Present and not JSON null. */
    public boolean has(String key) {
        return values.get(key) != null;
    }

    /** The raw value (map, list, string, number, boolean), empty when absent or null. */
    public Optional<Object> value(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** A JSON object entry; empty when absent, null or not an object. */
    @SuppressWarnings("unchecked")
    public Optional<Map<String, Object>> getObject(String key) {
        return values.get(key) instanceof Map<?, ?> m ? Optional.of((Map<String, Object>) m) : Optional.empty();
    }

    /** A JSON array entry; empty when absent, null or not an array. */
    @SuppressWarnings("unchecked")
    public List<Object> getList(String key) {
        return values.get(key) instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** An integer entry, {@code dflt} when absent or null; numbers are truncated and numeric strings parsed as JSON readers do. */
    public int getInt(String key, int dflt) {
        Object v = values.get(key);
        return v == null ? dflt : (int) asDouble(v, 0);
    }

    public int requireInt(String key) {
        Object v = values.get(key);
        if (!(v instanceof Number n)) {
            throw new CorruptInputException(directory + "/config.json lacks the integer '" + key + "'", null);
        }
        return n.intValue();
    }

    public double getDouble(String key, double dflt) {
        Object v = values.get(key);
        return v == null ? dflt : asDouble(v, 0.0);
    }

    /** A boolean entry; non-zero numbers and the string "true" count as true, as JSON readers' lenient reading does. */
    public boolean getBoolean(String key, boolean dflt) {
        Object v = values.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        return v instanceof String s && s.strip().equalsIgnoreCase("true");
    }

    /** A string entry; other scalars as their text, objects and arrays as an empty string (as JSON readers' asText). */
    public String getString(String key, String dflt) {
        Object v = values.get(key);
        if (v == null) {
            return dflt;
        }
        return v instanceof Map || v instanceof List ? "" : String.valueOf(v);
    }

    private static double asDouble(Object v, double fallback) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                return fallback;
            }
        }
        return fallback;
    }
}
