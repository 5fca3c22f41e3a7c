package dev.jround.plugin.tokenizer.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Encodes, decodes and chat templates against what transformers returned for the same tokenizer files. */
class HfTokenizerTest {

    static Path resource(String name) {
        try {
            return Path.of(HfTokenizerTest.class.getResource("/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode expected(String name) throws IOException {
        return new ObjectMapper().readTree(resource("expected.json").toFile()).get(name);
    }

    static long[] ids(JsonNode arr) {
        long[] r = new long[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asLong();
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel-chatml", "sentencepiece-llama2"})
    void encodesAndDecodesAsTransformers(String name) throws IOException {
        HfTokenizerProvider provider = new HfTokenizerProvider();
        assertTrue(provider.canLoad(resource(name)));
        JsonNode exp = expected(name);
        try (Tokenizer tok = provider.load(resource(name))) {
            for (JsonNode e : exp.get("encodes")) {
                String text = e.get("text").asText();
                long[] withSpecial = tok.encode(text, true);
                assertArrayEquals(ids(e.get("ids")), withSpecial, "encode(" + text + ", special)");
                assertArrayEquals(ids(e.get("ids_plain")), tok.encode(text, false), "encode(" + text + ")");
                assertEquals(e.get("decoded_skip").asText(), tok.decode(withSpecial, true), "decode skip " + text);
            }
            assertEquals(exp.get("bos").isNull() ? -1 : exp.get("bos").asLong(), tok.bosTokenId());
            assertEquals(exp.get("eos").asLong(), tok.eosTokenId());
            assertEquals(exp.get("pad").isNull() ? -1 : exp.get("pad").asLong(), tok.padTokenId());
            assertEquals(exp.get("vocab_size").asInt(), tok.vocabSize());
            assertEquals(exp.get("model_max_length").asInt(), tok.modelMaxLength());
            assertTrue(tok.hasChatTemplate());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel-chatml", "sentencepiece-llama2"})
    void rendersChatTemplatesAsTransformers(String name) throws IOException {
        JsonNode exp = expected(name);
        try (Tokenizer tok = new HfTokenizerProvider().load(resource(name))) {
            for (JsonNode chat : exp.get("chats")) {
                List<Map<String, String>> messages = messages(chat.get("messages"));
                boolean gen = chat.get("add_generation_prompt").asBoolean();
                assertEquals(chat.get("rendered").asText(), tok.applyChatTemplate(messages, gen),
                        name + " " + messages + " gen=" + gen);
            }
            List<Map<String, String>> twoUsers = List.of(Map.of("role", "user", "content", "a"),
                    Map.of("role", "user", "content", "b"));
            if (exp.get("non_alternating_raises").asBoolean()) {
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> tok.applyChatTemplate(twoUsers, false));
                assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
            } else {
                assertFalse(tok.applyChatTemplate(twoUsers, false).isEmpty());
            }
        }
    }

    @Test
    void templateFromTokenizerConfigAndMissingTemplate(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path src = resource("bytelevel-chatml");
        Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"<|im_end|>\"}, "
                + "\"add_eos_token\": true, \"chat_template\": [{\"name\": \"default\", "
                + "\"template\": \"{% for m in messages %}{{ m.role.upper() }}:{{ m.content }};{% endfor %}\\n\"}]}");
        try (Tokenizer tok = new HfTokenizerProvider().load(dir)) {
            assertEquals("USER:hi;", tok.applyChatTemplate(List.of(Map.of("role", "user", "content", "hi")), false));
            long[] ids = tok.encode("Hello world!", true);
            assertEquals(tok.eosTokenId(), ids[ids.length - 1]);
            assertEquals(Integer.MAX_VALUE, tok.modelMaxLength());
        }
        Files.delete(dir.resolve("tokenizer_config.json"));
        try (Tokenizer tok = new HfTokenizerProvider().load(dir)) {
            assertFalse(tok.hasChatTemplate());
            assertThrows(InvalidInputException.class, () -> tok.applyChatTemplate(List.of(), true));
        }
        assertFalse(new HfTokenizerProvider().canLoad(dir.resolve("missing")));
    }

    static List<Map<String, String>> messages(JsonNode arr) {
        List<Map<String, String>> r = new ArrayList<>();
        for (JsonNode m : arr) {
            Map<String, String> msg = new LinkedHashMap<>();
            m.fields().forEachRemaining(e -> msg.put(e.getKey(), e.getValue().asText()));
            r.add(msg);
        }
        return r;
    }
}
