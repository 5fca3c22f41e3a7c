package dev.jround.spi.data;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A loaded tokenizer (tokenizer.json + tokenizer_config.json). */
public interface Tokenizer extends AutoCloseable {

    /** Token ids of {@code text}; with {@code addSpecialTokens} the tokenizer's BOS/EOS rules apply. */
    long[] encode(String text, boolean addSpecialTokens);

    String decode(long[] ids, boolean skipSpecialTokens);

    /** -1 when the tokenizer has no such token. */
    long bosTokenId();

    long eosTokenId();

    long padTokenId();

    int vocabSize();

    /** The token string of an id (for GGUF vocabularies). */
    String idToToken(long id);

    /** Whether the tokenizer_config carries a chat template. */
    boolean hasChatTemplate();

    /**
     * The default chat template's source text, chosen by the tokenizer's own precedence (for the HF tokenizer:
     * {@code chat_template.jinja} over tokenizer_config.json's {@code chat_template}). Exporters that store the
     * template (GGUF's {@code tokenizer.chat_template}) take it from here, so the file says what the run rendered.
     * Empty when there is none, or when the tokenizer does not expose it.
     */
    default Optional<String> chatTemplate() {
        return Optional.empty();
    }

    /**
     * Renders the chat template over messages ({@code role}, {@code content}) as transformers'
     * {@code apply_chat_template(..., tokenize=False)} does.
     */
    String applyChatTemplate(List<Map<String, String>> messages, boolean addGenerationPrompt);

    /** {@code model_max_length} from tokenizer_config.json, or {@link Integer#MAX_VALUE}. */
    int modelMaxLength();

    @Override
    void close();
}
