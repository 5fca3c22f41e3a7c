package dev.jround.kernel.calib;

import dev.jround.spi.InvalidInputException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Parses AutoRound's {@code --dataset} spec string:
 * {@code entry ("," entry)*}, {@code entry := name (":" key["=" value])*}, split values joined by {@code +}.
 *
 * <p>Like the reference, every space character is removed from a CLI spec before parsing (so a system
 * prompt loses its spaces), a value ends at a second {@code =}, and {@code concat} /
 * {@code apply_chat_template} are on for any value but a case-insensitive {@code false}; a system prompt
 * turns the chat template on and carries over to later entries. Unlike the reference, things it would
 * silently ignore or crash on are rejected with a message naming the offending part: empty entries,
 * missing names, unknown keys, a {@code num} that is not a non-negative integer, empty splits.
 */
public final class SpecParser {

    /** The reference's system prompt until a spec sets one. */
    public static final String DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant.";

    private static final Set<String> KEYS = Set.of("num", "split", "concat", "apply_chat_template", "system_prompt");

    private SpecParser() {
    }

    /** Parses a spec as the CLI receives it: spaces are removed first, exactly as the reference does. */
    public static DatasetSpec parse(String spec) {
        return parse(spec, true);
    }

    /**
     * Parses a spec; {@code removeSpaces = false} is the API path that keeps spaces (system prompts with
     * spaces, paths with spaces).
     */
    public static DatasetSpec parse(String spec, boolean removeSpaces) {
        if (spec == null || spec.isBlank()) {
            throw invalid("dataset spec is empty", spec, null);
        }
        String text = removeSpaces ? spec.replace(" ", "") : spec.strip();
        String[] items = text.split(",", -1);
        List<DatasetSpec.Entry> entries = new ArrayList<>();
        java.util.Map<String, Boolean> seenNames = new java.util.HashMap<>();
        String systemPrompt = DEFAULT_SYSTEM_PROMPT;
        for (int idx = 0; idx < items.length; idx++) {
            String item = items[idx];
            if (item.isEmpty()) {
                throw invalid("dataset spec has an empty entry at position " + (idx + 1), text,
                        "remove the extra ',' — entries are joined by single commas");
            }
            String[] pieces = item.split(":", -1);
            String name = pieces[0];
            if (name.isEmpty()) {
                throw invalid("dataset spec entry '" + item + "' has no dataset name before ':'", text, null);
            }
            if (name.contains("=")) {
                throw invalid("dataset spec entry '" + item + "' starts with a parameter, not a dataset name", text,
                        "write NAME:" + name);
            }
            Integer num = null;
            List<String> splits = List.of();
            boolean concat = false;
            boolean chat = false;
            for (int p = 1; p < pieces.length; p++) {
                String param = pieces[p];
                if (param.isEmpty()) {
                    throw invalid("dataset spec entry '" + item + "' has an empty parameter (doubled ':')", text, null);
                }
                String[] kv = param.split("=", -1);
                String key = kv[0];
                String value = kv.length > 1 ? kv[1] : null;
                if (!KEYS.contains(key)) {
                    throw invalid("unknown parameter '" + key + "' in dataset spec entry '" + item + "'", text,
                            "valid parameters: num=N, split=a+b, concat[=True], apply_chat_template[=True], system_prompt=TEXT");
                }
                switch (key) {
                    case "num" -> num = parseNum(value, item, text);
                    case "split" -> splits = parseSplits(value, item, text);
                    case "concat" -> concat = enabled(value);
                    case "apply_chat_template" -> chat = enabled(value);
                    case "system_prompt" -> {
                        systemPrompt = value == null ? "" : value;
                        chat = true;
                    }
                    default -> throw new IllegalStateException(key);
                }
            }
            Boolean earlierNum = seenNames.put(name, num != null);
            if (earlierNum != null && (earlierNum || num != null)) {
                // the reference keys num= by name, so one entry's count would silently apply to the other
                throw invalid("dataset '" + name + "' appears twice and one of them has num=", text,
                        "give each dataset once when using num=");
            }
            entries.add(new DatasetSpec.Entry(item, name, num, splits, concat, chat, systemPrompt));
        }
        return new DatasetSpec(text, entries);
    }

    private static boolean enabled(String value) {
        return value == null || !value.equalsIgnoreCase("false");
    }

    private static Integer parseNum(String value, String item, String text) {
        if (value == null || value.isEmpty()) {
            throw invalid("'num' needs a value in dataset spec entry '" + item + "'", text, "write num=N");
        }
        try {
            int n = Integer.parseInt(value);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw invalid("'num=" + value + "' in dataset spec entry '" + item + "' is not a non-negative integer",
                    text, "write num=N with N >= 0");
        }
    }

    private static List<String> parseSplits(String value, String item, String text) {
        if (value == null || value.isEmpty()) {
            throw invalid("'split' needs a value in dataset spec entry '" + item + "'", text, "write split=train or split=train+test");
        }
        List<String> splits = Arrays.asList(value.split("\\+", -1));
        if (splits.stream().anyMatch(String::isEmpty)) {
            throw invalid("'split=" + value + "' in dataset spec entry '" + item + "' has an empty split name", text,
                    "join split names with single '+'");
        }
        return splits;
    }

    private static InvalidInputException invalid(String message, String spec, String hint) {
        String h = hint != null ? hint
                : "spec grammar: NAME[:num=N][:split=a+b][:concat][:apply_chat_template][:system_prompt=TEXT],NAME2...";
        return new InvalidInputException("--dataset: " + message + (spec == null ? "" : " (in '" + spec + "')"), h);
    }
}
