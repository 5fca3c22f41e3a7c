package dev.jround.kernel.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jround.spi.InvalidInputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the {@code --layer_config} argument as the reference does (docs/datasets.md): strict JSON; then JSON
 * with backslashes that start no JSON escape doubled (so {@code "\d"} works); then a relaxed syntax
 * {@code {k_proj:{bits:8},v_proj:{bits:8}}} of braces, colons, commas and bare tokens. Scalars are normalised in all
 * three modes: curly quotes straightened, one pair of outer quotes removed, integers, floats, booleans, null.
 * Key order is kept (it decides which pattern wins).
 */
public final class LayerConfigParser {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    private static final Pattern INTEGER = Pattern.compile("-*\\d+");
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?((\\d[\\d_]*)?\\.?\\d[\\d_]*([eE][+-]?\\d+)?|\\d+\\.|(inf|infinity|nan))", Pattern.CASE_INSENSITIVE);
    private static final Pattern TOKEN = Pattern.compile("[{}:,]|[^\\s{}:,]+");

    private LayerConfigParser() {
    }

    /** The parsed map (layer name or pattern to a preset name or a field map). */
    public static Map<String, Object> parse(String text) {
        if (text == null || text.isBlank()) {
            return new LinkedHashMap<>();
        }
        String s = stripMatchingQuotes(text);
        Object parsed = null;
        try {
            parsed = normalizeTree(JSON.readValue(s, Object.class));
        } catch (JsonProcessingException strictFailed) {
            try {
                parsed = normalizeTree(JSON.readValue(escapeInvalidBackslashes(s), Object.class));
            } catch (JsonProcessingException repairedFailed) {
                parsed = relaxed(s);
            }
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw invalid("--layer_config must be a map of layer names or patterns to schemes, got: " + text);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static Object relaxed(String s) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(s);
        while (m.find()) {
            tokens.add(m.group());
        }
        int[] pos = {0};
        return parseDict(tokens, pos, s);
    }

    private static Map<String, Object> parseDict(List<String> tokens, int[] pos, String text) {
        consume(tokens, pos, "{", text);
        Map<String, Object> result = new LinkedHashMap<>();
        while (true) {
            String tok = peek(tokens, pos);
            if ("}".equals(tok)) {
                consume(tokens, pos, "}", text);
                return result;
            }
            Object key = normalizeScalar(consume(tokens, pos, null, text));
            consume(tokens, pos, ":", text);
            Object value = "{".equals(peek(tokens, pos)) ? parseDict(tokens, pos, text) : normalizeScalar(consume(tokens, pos, null, text));
            result.put(String.valueOf(key), value);
            if (",".equals(peek(tokens, pos))) {
                consume(tokens, pos, ",", text);
            }
        }
    }

    private static String peek(List<String> tokens, int[] pos) {
        return pos[0] < tokens.size() ? tokens.get(pos[0]) : null;
    }

    private static String consume(List<String> tokens, int[] pos, String expected, String text) {
        String tok = peek(tokens, pos);
        if (tok == null) {
            throw invalid("--layer_config ends unexpectedly: " + text);
        }
        if (expected != null && !expected.equals(tok)) {
            throw invalid("--layer_config expected '" + expected + "' but found '" + tok + "' in: " + text);
        }
        pos[0]++;
        return tok;
    }

    private static InvalidInputException invalid(String message) {
        return new InvalidInputException(message,
                "use JSON ({\"k_proj\": {\"bits\": 8}}) or the compact form {k_proj:{bits:8},v_proj:{bits:8}}");
    }

    static String stripMatchingQuotes(String token) {
        String t = token.strip().replace('\u201C', '"').replace('\u201D', '"');
        if (t.length() >= 2 && t.charAt(0) == t.charAt(t.length() - 1) && (t.charAt(0) == '\'' || t.charAt(0) == '"')) {
            return t.substring(1, t.length() - 1);
        }
        return t;
    }

    /** A string scalar to int, float, boolean, null or itself (after quote stripping); other values unchanged. */
    static Object normalizeScalar(Object value) {
        if (!(value instanceof String raw)) {
            return value;
        }
        String v = stripMatchingQuotes(raw);
        if (INTEGER.matcher(v).matches() && !v.startsWith("--")) {
            long l = Long.parseLong(v);
            return l == (int) l ? (Object) (int) l : (Object) l;
        }
        if (FLOAT.matcher(v).matches()) {
            String f = v.replace("_", "").toLowerCase(java.util.Locale.ROOT);
            if (f.endsWith("inf") || f.endsWith("infinity")) {
                return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            }
            if (f.endsWith("nan")) {
                return Double.NaN;
            }
            return Double.parseDouble(f);
        }
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        return switch (lower) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null", "none" -> null;
            default -> v;
        };
    }

    private static Object normalizeTree(Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(normalizeScalar(k)), normalizeTree(v)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(e -> out.add(normalizeTree(e)));
            return out;
        }
        return normalizeScalar(value);
    }

    /** Doubles every backslash inside a JSON string that does not start a valid escape. */
    static String escapeInvalidBackslashes(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (!inString) {
                if (ch == '"') {
                    inString = true;
                }
                out.append(ch);
                continue;
            }
            if (ch == '\\') {
                char next = i + 1 < text.length() ? text.charAt(i + 1) : '\0';
                if ("\"\\/bfnrtu".indexOf(next) < 0 || next == '\0') {
                    out.append("\\\\");
                    continue;
                }
                // a valid escape: copy it whole so an escaped quote does not end the string
                out.append(ch).append(next);
                i++;
                continue;
            }
            if (ch == '"') {
                inString = false;
            }
            out.append(ch);
        }
        return out.toString();
    }
}
