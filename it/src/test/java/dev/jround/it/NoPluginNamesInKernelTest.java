package dev.jround.it;

import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, item 1: the kernel routes on the capabilities plugins declare, never on a format, algorithm, preset or
 * architecture name. Every string literal in kernel/src/main is scanned for the names the installed plugins declare
 * (plus a floor of known names, so that a plugin missing from this class path does not weaken the check).
 */
class NoPluginNamesInKernelTest {

    /** Literals that may name a plugin anyway, as {@code File.java: literal}. Keep it empty. */
    private static final Set<String> ALLOWED = Set.of();

    /** Known names, in case a plugin is not on this module's test class path. */
    private static final List<String> FLOOR = List.of("auto_round", "auto_gptq", "auto_awq", "fake", "gguf", "GGUF",
            "signround", "adam", "opt_rtn", "rtn", "W4A16", "W8A16", "llama", "mistral", "qwen2", "qwen3", "opt");

    @Test
    void kernelSourcesNameNoPlugin() throws IOException {
        Set<String> names = names();
        Path root = Path.of("..", "kernel", "src", "main", "java");
        assertTrue(Files.isDirectory(root), root.toAbsolutePath() + " not found");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                for (String lit : literals(Files.readString(f))) {
                    String hit = offending(lit, names);
                    String key = f.getFileName() + ": " + lit;
                    if (hit != null && !ALLOWED.contains(key)) {
                        found.add(key + "   (names " + hit + ")");
                    }
                }
            }
        }
        assertEquals(List.of(), found, "kernel/src/main names plugins; declare a capability in spi instead");
    }

    @Test
    void scannerFindsWhatItShould() {
        Set<String> names = names();
        for (String bad : List.of("gguf", "GGUF:", "_K", "opt_rtn", "a .gguf file", "auto_round, auto_gptq and fake",
                "model_type llama", "W4A16")) {
            assertTrue(offending(bad, names) != null, bad);
        }
        for (String ok : List.of("--disable_opt_rtn", "fp32", "bf16", "int", "optimizer", "qwencoder", "model.layers", "a", "16")) {
            assertFalse(offending(ok, names) != null, ok);
        }
        assertEquals(List.of("a\"b", "c", "d\n"), literals("x = \"a\\\"b\"; // \"no\"\n/* \"no\" */ y('\"', \"c\");\nz = \"\"\"\n    d\n    \"\"\";"));
    }

    /** Every declared name, and the family before {@code :} of names such as {@code gguf:q4_k_m} or {@code GGUF:Q4_0}. */
    private static Set<String> names() {
        ServiceLoaderRegistry reg = new ServiceLoaderRegistry();
        Set<String> n = new TreeSet<>(FLOOR);
        for (Exporter e : reg.all(Exporter.class)) {
            n.add(e.descriptor().id());
            n.addAll(e.formats());
        }
        for (QuantAlgorithm a : reg.all(QuantAlgorithm.class)) {
            n.add(a.descriptor().id());
            n.add(a.name());
            n.addAll(a.aliases());
        }
        for (SchemePreset p : reg.all(SchemePreset.class)) {
            n.addAll(p.presets().keySet());
        }
        for (ModelArchitecture a : reg.all(ModelArchitecture.class)) {
            n.add(a.descriptor().id());
            n.addAll(a.modelTypes());
        }
        for (String s : List.copyOf(n)) {
            for (String part : s.split(":")) {
                n.add(part);
            }
        }
        n.removeIf(String::isBlank);
        return n;
    }

    /**
     * The name a literal mentions: a name as a whole word (case as declared, neighbours not letters, digits or
     * {@code _}), or a literal of two or more characters with a letter and punctuation that is a piece of a name
     * ({@code "_K"}, {@code "GGUF:"}), as prefix and substring tests use them.
     */
    static String offending(String literal, Set<String> names) {
        for (String name : names) {
            int i = literal.indexOf(name);
            while (i >= 0) {
                int end = i + name.length();
                if ((i == 0 || !word(literal.charAt(i - 1))) && (end == literal.length() || !word(literal.charAt(end)))) {
                    return name;
                }
                i = literal.indexOf(name, i + 1);
            }
        }
        String t = literal.strip();
        boolean letter = t.chars().anyMatch(Character::isLetter);
        boolean punct = t.chars().anyMatch(c -> !Character.isLetterOrDigit(c));
        if (t.length() >= 2 && letter && punct) {
            for (String name : names) {
                if (name.contains(t)) {
                    return name;
                }
            }
        }
        return null;
    }

    private static boolean word(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** String literals and text blocks of a Java source, comments and char literals skipped, escapes kept as written but for {@code \"}. */
    static List<String> literals(String src) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                i = src.indexOf('\n', i);
                i = i < 0 ? n : i;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                i = src.indexOf("*/", i + 2);
                i = i < 0 ? n : i + 2;
            } else if (c == '\'') {
                i++;
                while (i < n && src.charAt(i) != '\'') {
                    i += src.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end;
                String body = src.substring(src.indexOf('\n', i) + 1, end);
                out.add(body.stripIndent());
                i = end + 3;
            } else if (c == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                while (i < n && src.charAt(i) != '"') {
                    if (src.charAt(i) == '\\' && i + 1 < n) {
                        sb.append(src.charAt(i + 1) == '"' ? "\"" : src.substring(i, i + 2));
                        i += 2;
                    } else {
                        sb.append(src.charAt(i++));
                    }
                }
                out.add(sb.toString());
                i++;
            } else {
                i++;
            }
        }
        return out;
    }
}
