package dev.jround.it.gguf;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.plugin.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * GGUF's {@code tokenizer.chat_template} is the template the run's tokenizer uses (ExportContext.tokenizer()): with
 * both chat_template.jinja and tokenizer_config.json's chat_template present, the .jinja file wins, as in the
 * tokenizer plugin and transformers.
 */
class GgufChatTemplateTest {

    static final String JINJA = "{% for m in messages %}<jinja>{{ m['content'] }}{% endfor %}";
    static final String CONFIG = "{% for m in messages %}<config>{{ m['content'] }}{% endfor %}";

    @TempDir
    Path tmp;

    /** aidreams260K with the given templates (either may be null). */
    Path model(String jinja, String config) throws Exception {
        Path src = Shared.aidreams();
        Path dir = Files.createDirectories(tmp.resolve("model"));
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json",
                "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        if (config != null) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode tc = (ObjectNode) json.readTree(dir.resolve("tokenizer_config.json").toFile());
            tc.put("chat_template", config);
            json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
        }
        if (jinja != null) {
            Files.writeString(dir.resolve("chat_template.jinja"), jinja);
        }
        return dir;
    }

    String ggufTemplate(Path model) {
        var result = AutoRound.builder(model.toString()).scheme("W4A16").iters(0).disableOptRtn(true).build()
                .quantizeAndSave(tmp.resolve("out"), "gguf:q4_0");
        try (Stream<Path> s = Files.walk(result.outputs().get(0));
             GgufFile g = GgufFile.open(s.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow())) {
            return g.getString("tokenizer.chat_template", null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theTokenizersTemplateWinsWhenBothSourcesExist() throws Exception {
        Path model = model(JINJA, CONFIG);
        try (LoadedModel m = new ModelLoader(new ServiceLoaderRegistry()).load(model.toString(), DataType.FLOAT32)) {
            assertEquals(JINJA, m.tokenizer().chatTemplate().orElseThrow());
        }
        assertEquals(JINJA, ggufTemplate(model));
    }

    @Test
    void aConfigOnlyTemplateIsWrittenAsBefore() throws Exception {
        assertEquals(CONFIG, ggufTemplate(model(null, CONFIG)));
    }

    @Test
    void noTemplateNoKey() throws Exception {
        assertNull(ggufTemplate(model(null, null)));
    }
}
