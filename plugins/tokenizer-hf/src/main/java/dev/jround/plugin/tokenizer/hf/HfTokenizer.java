package dev.jround.plugin.tokenizer.hf;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A tokenizer directory: {@code tokenizer.json} runs in DJL's native tokenizers; {@code tokenizer_config.json}
 * (falling back to {@code special_tokens_map.json}) names the special tokens, the BOS/EOS rules and the chat
 * template ({@code chat_template} there, or {@code chat_template.jinja} beside it, as transformers 4.43+ saves it).
 */
final class HfTokenizer implements Tokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer native_;
    private final Map<String, Long> tokenToId;
    private final Map<Long, String> idToToken;
    private final Map<String, String> specialTokens;
    private final Boolean addBos;
    private final Boolean addEos;
    private final int modelMaxLength;
    private final String chatTemplate;
    /** The file the template came from, for error messages. */
    private final String chatTemplateFile;
    private final long bos;
    private final long eos;
    private final long pad;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, JsonNode tokenizerJson, JsonNode config, JsonNode specialsMap,
                        String chatTemplate, String chatTemplateFile) {
        this.native_ = tokenizer;
        this.tokenToId = new HashMap<>();
        this.idToToken = new HashMap<>();
        JsonNode vocab = tokenizerJson.path("model").path("vocab");
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> put(e.getKey(), e.getValue().asLong()));
        } else if (vocab.isArray()) {
            // Unigram: a list of [piece, score]; the id is the position
            for (int i = 0; i < vocab.size(); i++) {
                put(vocab.get(i).get(0).asText(), i);
            }
        }
        for (JsonNode t : tokenizerJson.path("added_tokens")) {
            put(t.path("content").asText(), t.path("id").asLong());
        }
        this.specialTokens = new LinkedHashMap<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            String v = tokenText(config.get(key));
            if (v == null) {
                v = tokenText(specialsMap.get(key));
            }
            if (v != null) {
                specialTokens.put(key, v);
            }
        }
        this.addBos = config.has("add_bos_token") ? config.get("add_bos_token").asBoolean() : null;
        this.addEos = config.has("add_eos_token") ? config.get("add_eos_token").asBoolean() : null;
        JsonNode max = config.get("model_max_length");
        this.modelMaxLength = max != null && max.isNumber() && max.asDouble() < Integer.MAX_VALUE ? max.asInt() : Integer.MAX_VALUE;
        this.chatTemplate = chatTemplate;
        this.chatTemplateFile = chatTemplateFile;
        this.bos = idOf(specialTokens.get("bos_token"));
        this.eos = idOf(specialTokens.get("eos_token"));
        this.pad = idOf(specialTokens.get("pad_token"));
    }

    private void put(String token, long id) {
        tokenToId.put(token, id);
        idToToken.put(id, token);
    }

    private long idOf(String token) {
        Long id = token == null ? null : tokenToId.get(token);
        return id == null ? -1 : id;
    }

    /** A special-token entry: a plain string or an AddedToken object with "content". */
    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isObject() ? n.path("content").asText(null) : n.asText();
    }

    static HfTokenizer open(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("no tokenizer.json in " + dir,
                    "jround reads Hugging Face fast tokenizers; save one with tokenizer.save_pretrained()");
        }
        JsonNode tokenizerJson = readJson(file);
        JsonNode config = readJson(dir.resolve("tokenizer_config.json"));
        JsonNode specials = readJson(dir.resolve("special_tokens_map.json"));
        String template = chatTemplate(dir, config);
        Path templateFile = Files.isRegularFile(dir.resolve("chat_template.jinja")) ? dir.resolve("chat_template.jinja")
                : dir.resolve("tokenizer_config.json");
        // Options keep DJL from truncating or padding (its defaults do both); special tokens are added by encode().
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false",
                "modelMaxLength", String.valueOf(Integer.MAX_VALUE));
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = Files.newInputStream(file)) {
            tokenizer = HuggingFaceTokenizer.newInstance(in, options);
        } catch (IOException | RuntimeException e) {
            throw new CorruptInputException("cannot load " + file + ": " + e.getMessage(),
                    "the file must be a tokenizer.json written by the Hugging Face tokenizers library", e);
        }
        return new HfTokenizer(tokenizer, tokenizerJson, config, specials, template, templateFile.toString());
    }

    private static JsonNode readJson(Path f) {
        if (!Files.isRegularFile(f)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            return n == null ? JSON.createObjectNode() : n;
        } catch (IOException e) {
            throw CorruptInputException.unparsable(f, e, "the file must be valid JSON");
        }
    }

    /** The default chat template: chat_template.jinja, else tokenizer_config's chat_template (string or named list). */
    private static String chatTemplate(Path dir, JsonNode config) {
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CorruptInputException("cannot read " + jinja + ": " + e.getMessage(), null, e);
            }
        }
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText();
                }
            }
            return t.size() > 0 ? t.get(0).path("template").asText() : null;
        }
        return t.asText();
    }

    @Override
    public long[] encode(String text, boolean addSpecialTokens) {
        if (!addSpecialTokens) {
            return native_.encode(text, false, false).getIds();
        }
        if (addBos == null && addEos == null) {
            // no explicit rule in tokenizer_config: tokenizer.json's post-processor decides
            return native_.encode(text, true, false).getIds();
        }
        long[] plain = native_.encode(text, false, false).getIds();
        boolean bosFirst = Boolean.TRUE.equals(addBos) && bos >= 0;
        boolean eosLast = Boolean.TRUE.equals(addEos) && eos >= 0;
        long[] r = new long[plain.length + (bosFirst ? 1 : 0) + (eosLast ? 1 : 0)];
        int k = 0;
        if (bosFirst) {
            r[k++] = bos;
        }
        System.arraycopy(plain, 0, r, k, plain.length);
        if (eosLast) {
            r[r.length - 1] = eos;
        }
        return r;
    }

    @Override
    public String decode(long[] ids, boolean skipSpecialTokens) {
        return native_.decode(ids, skipSpecialTokens);
    }

    @Override
    public long bosTokenId() {
        return bos;
    }

    @Override
    public long eosTokenId() {
        return eos;
    }

    @Override
    public long padTokenId() {
        return pad;
    }

    @Override
    public int vocabSize() {
        return idToToken.keySet().stream().mapToInt(Long::intValue).max().orElse(-1) + 1;
    }

    @Override
    public String idToToken(long id) {
        return idToToken.get(id);
    }

    @Override
    public boolean hasChatTemplate() {
        return chatTemplate != null;
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    @Override
    public String applyChatTemplate(List<Map<String, String>> messages, boolean addGenerationPrompt) {
        if (chatTemplate == null) {
            throw new InvalidInputException("the tokenizer has no chat template",
                    "add chat_template to tokenizer_config.json (or chat_template.jinja), or run without --chat");
        }
        return ChatTemplates.render(chatTemplateFile, chatTemplate, messages, addGenerationPrompt, specialTokens);
    }

    @Override
    public int modelMaxLength() {
        return modelMaxLength;
    }

    @Override
    public void close() {
        native_.close();
    }
}
