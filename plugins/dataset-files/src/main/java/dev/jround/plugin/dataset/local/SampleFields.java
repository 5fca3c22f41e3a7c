package dev.jround.plugin.dataset.local;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.CalibrationRecord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one parsed sample (String, Map, List ... as Jackson or the Parquet reader give them) into a
 * calibration record, with the reference's field rules first and jround's additions after them.
 *
 * <p>Reference, in order: a string; an object with exactly one key (any name) → its value; an object
 * with {@code text}; an object with {@code input_ids} holding a string. Additions (where the reference
 * would fail with "data must be a string"): a chat — a list of {@code role}/{@code content} maps, found
 * as the single value or under {@code messages} / {@code conversations}; {@code content} (web-text sets);
 * {@code code} (code sets); {@code input_ids} as a list of integers (already tokenized, passed through).
 */
final class SampleFields {

    private SampleFields() {
    }

    static CalibrationRecord resolve(Object sample, String where) {
        if (sample instanceof String s) {
            return CalibrationRecord.ofText(rstrip(s));
        }
        if (sample instanceof Map<?, ?> map) {
            if (map.size() == 1) {
                return fromValue(map.values().iterator().next(), where);
            }
            if (map.get("text") instanceof String s) {
                return CalibrationRecord.ofText(rstrip(s));
            }
            Object ids = map.get("input_ids");
            if (ids != null) {
                return fromValue(ids, where);
            }
            for (String key : List.of("messages", "conversations")) {
                if (map.containsKey(key)) {
                    return fromValue(map.get(key), where);
                }
            }
            for (String key : List.of("content", "code")) {
                if (map.get(key) instanceof String s) {
                    return CalibrationRecord.ofText(rstrip(s));
                }
            }
            throw new InvalidInputException(where + ": sample has no usable field (keys " + map.keySet() + ")",
                    "give each sample as a string, or an object with 'text' (or one key, 'messages', 'content', 'code', 'input_ids')");
        }
        return fromValue(sample, where);
    }

    private static CalibrationRecord fromValue(Object v, String where) {
        if (v instanceof String s) {
            return CalibrationRecord.ofText(rstrip(s));
        }
        if (v instanceof List<?> list && !list.isEmpty()) {
            if (list.stream().allMatch(e -> e instanceof Number)) {
                return CalibrationRecord.ofTokens(list.stream().mapToLong(e -> ((Number) e).longValue()).toArray());
            }
            if (list.stream().allMatch(e -> e instanceof Map<?, ?>)) {
                List<Map<String, String>> messages = new ArrayList<>();
                for (Object e : list) {
                    Map<?, ?> m = (Map<?, ?>) e;
                    Object role = m.containsKey("role") ? m.get("role") : m.get("from");
                    Object content = m.containsKey("content") ? m.get("content") : m.get("value");
                    if (!(role instanceof String) || !(content instanceof String)) {
                        throw new InvalidInputException(where + ": chat message without string 'role' and 'content': " + m,
                                "write messages as {\"role\": ..., \"content\": ...}");
                    }
                    Map<String, String> msg = new LinkedHashMap<>();
                    msg.put("role", normalizeRole((String) role));
                    msg.put("content", (String) content);
                    messages.add(msg);
                }
                return CalibrationRecord.ofMessages(messages);
            }
        }
        throw new InvalidInputException(where + ": data must be a string (got "
                + (v == null ? "null" : v instanceof List<?> ? "a list" : v.getClass().getSimpleName()) + ")",
                "give each sample as a string, or an object with 'text' (or one key, 'messages', 'content', 'code', 'input_ids')");
    }

    /** ShareGPT writes human/gpt; chat templates expect user/assistant. */
    private static String normalizeRole(String role) {
        return switch (role) {
            case "human" -> "user";
            case "gpt" -> "assistant";
            default -> role;
        };
    }

    /** Python's {@code str.rstrip()}: drops trailing whitespace as Python defines it. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0) {
            char c = s.charAt(end - 1);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085') {
                end--;
            } else {
                break;
            }
        }
        return s.substring(0, end);
    }
}
