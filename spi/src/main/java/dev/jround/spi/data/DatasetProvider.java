package dev.jround.spi.data;

import dev.jround.spi.JroundPlugin;

import java.util.List;
import java.util.Map;

/**
 * Turns one item of a dataset spec string (a name or a local path, with its parameters) into raw
 * calibration records. Tokenisation, filtering, concatenation and sampling are done by the kernel,
 * identically for every source.
 *
 * <p>Parameters the kernel passes in {@code params} (already parsed from the spec string):
 * {@value #SPLIT} ({@code +}-joined split names), {@value #NUM}, {@value #CONCAT} ({@code true} or
 * {@code false}), {@value #CHAT_TEMPLATE} ({@code true} or {@code false}) and {@value #SYSTEM_PROMPT}.
 */
public interface DatasetProvider extends JroundPlugin {

    String SPLIT = "split";
    String NUM = "num";
    String CONCAT = "concat";
    String CHAT_TEMPLATE = "apply_chat_template";
    String SYSTEM_PROMPT = "system_prompt";

    /** Whether this provider serves the item (e.g. a file extension, a registered dataset name). */
    boolean accepts(String nameOrPath);

    /**
     * Loads the records of one item, in the order the reference would tokenize them (a provider
     * applies its own seeded shuffling through {@link DatasetContext#pythonShuffleOrder} or
     * {@link DatasetContext#numpyPermutation}).
     *
     * @param params the item's {@code key=value} parameters (split, num, ...)
     * @param ctx    access to the tokenizer, the model (for self-generation) and settings
     */
    List<CalibrationRecord> load(String nameOrPath, Map<String, String> params, DatasetContext ctx);

    /** How well a name matches, so that an existing file beats a registered name and both beat a partial name. */
    enum Match { NONE, FUZZY, EXACT }

    /** {@link Match#EXACT} when {@link #accepts} says so; providers with partial-name lookup override this. */
    default Match match(String nameOrPath) {
        return accepts(nameOrPath) ? Match.EXACT : Match.NONE;
    }

    /**
     * Loads one item and reports what it resolved to. The default wraps {@link #load} and keeps the
     * requested concat / chat-template settings.
     */
    default Loaded open(String nameOrPath, Map<String, String> params, DatasetContext ctx) {
        return new Loaded(nameOrPath, load(nameOrPath, params, ctx),
                Boolean.parseBoolean(params.getOrDefault(CONCAT, "false")),
                Boolean.parseBoolean(params.getOrDefault(CHAT_TEMPLATE, "false")), List.of());
    }

    /**
     * Whether the item can be read without network access (a local file, a cached dataset). Used to
     * choose the default calibration set.
     */
    default boolean availableOffline(String nameOrPath, DatasetContext ctx) {
        return true;
    }

    /**
     * What one item resolved to.
     *
     * @param source            the resolved source, e.g. {@code NeelNanda/pile-10k (hub cache, train)} or a file path
     * @param records           raw records in tokenization order
     * @param concatenate       whether the kernel must concatenate the tokenized records into seqlen chunks
     * @param applyChatTemplate whether the kernel must render text records through the chat template
     *                          ({@code false} when the provider rendered them itself or the source never uses it)
     * @param notes             one-line remarks for the summary (quirks applied, fallbacks)
     */
    record Loaded(String source, List<CalibrationRecord> records, boolean concatenate, boolean applyChatTemplate,
                  List<String> notes) {
        public Loaded {
            records = List.copyOf(records);
            notes = notes == null ? List.of() : List.copyOf(notes);
        }
    }
}
