package dev.jround.host;

import java.util.ArrayList;
import java.util.List;

/** Minimal parsing of OSGi manifest header clauses ({@code name;attr=value;dir:=value, ...}), quote-aware. */
final class ManifestClauses {

    private ManifestClauses() {
    }

    /** Splits a header at top-level commas (commas inside quotes belong to a value). */
    static List<String> split(String header) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                out.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().trim());
        }
        return out;
    }

    /** The leading names of a clause ({@code a;b;version=1} names two packages). */
    static List<String> names(String clause) {
        List<String> out = new ArrayList<>();
        for (String part : splitParts(clause)) {
            if (part.contains("=")) {
                break;
            }
            out.add(part);
        }
        return out;
    }

    /** The value of attribute {@code key} (not a {@code :=} directive), unquoted, or null. */
    static String attribute(String clause, String key) {
        for (String part : splitParts(clause)) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.charAt(eq - 1) != ':' && part.substring(0, eq).trim().equals(key)) {
                String v = part.substring(eq + 1).trim();
                return v.startsWith("\"") && v.endsWith("\"") && v.length() >= 2 ? v.substring(1, v.length() - 1) : v;
            }
        }
        return null;
    }

    private static List<String> splitParts(String clause) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : clause.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ';' && !quoted) {
                out.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        out.add(current.toString().trim());
        return out;
    }
}
