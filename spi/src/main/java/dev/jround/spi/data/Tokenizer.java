package dev.jround.spi.data;

import java.util.List;
import java.util.Map;

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
     * Renders the chat template over messages ({@code role}, {@code content}) as transformers'
     * {@code apply_chat_template(..., tokenize=False)} does.
     */
    String applyChatTemplate(List<Map<String, String>> messages, boolean addGenerationPrompt);

    /** {@code model_max_length} from tokenizer_config.json, or {@link Integer#MAX_VALUE}. */
    int modelMaxLength();

    @Override
    void close();
}
