package dev.jround.lib.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

class ConfigJsonTest {

    static final String CONFIG = "{\"model_type\":\"llama\",\"hidden_size\":64,\"vocab_size\":32000,"
            + "\"big\":12345678901234,\"huge\":123456789012345678901234567890,\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0,"
            + "\"bos_token_id\":null,\"eos_token_id\":[1,2],\"rope_scaling\":{\"type\":\"linear\",\"factor\":2},"
            + "\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\"}";

    @Test
    void convertsExactlyBothWays(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        ModelConfig c = ConfigJson.read(dir);
        assertEquals(dir, c.directory());
        assertEquals(12345678901234L, c.values().get("big"));
        assertTrue(c.values().get("huge") instanceof BigInteger);
        assertEquals(new ObjectMapper().readTree(CONFIG), ConfigJson.tree(c), "number types, nulls and key order survive");
        ObjectMapper om = new ObjectMapper();
        assertEquals(om.writeValueAsString(om.readTree(CONFIG)), om.writeValueAsString(ConfigJson.tree(c)), "written as read");
    }

    @Test
    void badFilesGetOneClearError(@TempDir Path dir) throws IOException {
        InvalidInputException missing = assertThrows(InvalidInputException.class, () -> ConfigJson.read(dir));
        assertTrue(missing.getMessage().contains("no config.json"), missing.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\",\n \"hidden_size\": }");
        CorruptInputException bad = assertThrows(CorruptInputException.class, () -> ConfigJson.read(dir));
        assertTrue(bad.getMessage().matches("(?s)cannot parse .*config.json: .*\\(line 2, column \\d+\\)"), bad.getMessage());
        assertTrue(!bad.getMessage().contains("[Source:"), bad.getMessage());
        Files.writeString(dir.resolve("config.json"), "[1, 2]");
        assertThrows(CorruptInputException.class, () -> ConfigJson.read(dir));
    }
}
