package dev.jround.spi.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jround.spi.CorruptInputException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

class ModelConfigTest {

    static ModelConfig sample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "llama");
        m.put("architectures", List.of("LlamaForCausalLM"));
        m.put("hidden_size", 64);
        m.put("rms_norm_eps", 1e-5);
        m.put("tie_word_embeddings", true);
        m.put("bos_token_id", null);
        m.put("rope_scaling", Map.of("rope_type", "linear", "factor", 2.0));
        m.put("max_position_embeddings", "256");
        return ModelConfig.of(Path.of("m"), m);
    }

    @Test
    void typedAccessorsReadPlainValues() {
        ModelConfig c = sample();
        assertEquals("llama", c.modelType());
        assertEquals(List.of("LlamaForCausalLM"), c.architectures());
        assertEquals(64, c.requireInt("hidden_size"));
        assertEquals(1e-5, c.getDouble("rms_norm_eps", 0));
        assertTrue(c.getBoolean("tie_word_embeddings", false));
        assertFalse(c.has("bos_token_id"), "JSON null counts as absent");
        assertEquals(7, c.getInt("bos_token_id", 7));
        assertEquals(256, c.getInt("max_position_embeddings", 0), "numeric strings read as JSON readers' lenient asInt");
        assertEquals("linear", c.getObject("rope_scaling").orElseThrow().get("rope_type"));
        assertTrue(c.getObject("hidden_size").isEmpty());
        assertEquals(List.of(), c.getList("missing"));
        assertEquals("", c.getString("rope_scaling", "x"), "containers read as empty text");
        assertThrows(CorruptInputException.class, () -> c.requireInt("max_position_embeddings"));
    }

    @Test
    void configsAreImmutableValues() {
        List<Object> archs = new ArrayList<>(List.of("A"));
        Map<String, Object> m = new LinkedHashMap<>(Map.of("architectures", archs));
        ModelConfig c = ModelConfig.of(Path.of("."), m);
        archs.add("B");
        m.put("model_type", "opt");
        assertEquals(List.of("A"), c.architectures(), "deep copy at construction");
        assertThrows(UnsupportedOperationException.class, () -> c.values().put("x", 1));
        assertThrows(UnsupportedOperationException.class, () -> c.getList("architectures").add("C"));
        ModelConfig d = c.with("model_type", "opt");
        assertEquals("", c.modelType());
        assertEquals("opt", d.modelType());
        assertFalse(d.with("model_type", null).has("model_type"));
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.of(Path.of("."), Map.of("x", new Object())));
    }

    @Test
    void theContractCarriesNoJsonLibrary() throws IOException {
        Path main = Path.of("src/main/java");
        try (Stream<Path> files = Files.walk(main)) {
            List<String> offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                try {
                    return Files.readString(p).contains("com.fasterxml");
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }).map(Path::toString).toList();
            assertEquals(List.of(), offenders, "spi/src/main must not use Jackson (plugins get plain values)");
        }
    }
}
