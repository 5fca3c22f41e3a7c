package dev.jround.plugin.tokenizer.hf;

import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10 part 3: a chat template cannot hang the process, exhaust its memory or read files. */
class ChatTemplateLimitsTest {

    private static final String NAME = "/models/m/tokenizer_config.json";
    private static final List<Map<String, String>> HI = List.of(Map.of("role", "user", "content", "hi"));
    private static final String LOOPS = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
            + "x{% endfor %}{% endfor %}{% endfor %}";

    @Test
    void ordinaryTemplateRenders() {
        String t = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>{% endif %}{{ eos_token }}";
        assertEquals("<|user|>hi\n<|assistant|></s>", ChatTemplates.render(NAME, t, HI, true, Map.of("eos_token", "</s>")));
    }

    @Test
    void nestedLoopsStopAtTheStepBudget() {
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, LOOPS, HI, false, Map.of()));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
    }

    @Test
    void slowTemplateStopsAtTheDeadline() {
        ChatTemplates.Limits limits = new ChatTemplates.Limits(Long.MAX_VALUE, 200, 16L << 20);
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, LOOPS, HI, false, Map.of(), limits));
        assertTrue(e.getMessage().contains("took longer than 200 ms"), e.getMessage());
    }

    @Test
    void hugePromptIsRefused() {
        List<Map<String, String>> big = List.of(Map.of("role", "user", "content", "a".repeat(17 << 20)));
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, "{{ messages[0]['content'] }}", big, false, Map.of()));
        assertTrue(e.getMessage().contains("characters"), e.getMessage());
    }

    @Test
    void outputGrownByALoopIsRefused() {
        List<Map<String, String>> msg = List.of(Map.of("role", "user", "content", "a".repeat(100_000)));
        String t = "{% for i in range(200) %}{{ messages[0]['content'] }}{% endfor %}";
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, t, msg, false, Map.of()));
        assertTrue(e.getMessage().contains("characters"), e.getMessage());
    }

    @Test
    void stringDoublingIsRefused() {
        String t = "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                + "{{ ns.s|length }}";
        fails(() -> ChatTemplates.render(NAME, t, HI, false, Map.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{% include 'META-INF/MANIFEST.MF' %}", "{% import 'META-INF/MANIFEST.MF' as m %}x",
            "{% from 'META-INF/MANIFEST.MF' import a %}x", "{% extends 'META-INF/MANIFEST.MF' %}x",
            "{% include '/etc/passwd' %}"})
    void noFileOrClassPathAccess(String t) {
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, t, HI, false, Map.of()));
        assertTrue(e.getMessage().contains("reads another file"), e.getMessage());
        assertFalse(e.getMessage().contains("Manifest-Version"), e.getMessage());
    }

    @Test
    void syntaxErrorIsOneCleanMessage() {
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME, "{% for m in messages %}{{ m }}", HI, false, Map.of()));
        assertTrue(e.getMessage().contains("failed"), e.getMessage());
    }

    @Test
    void raiseExceptionKeepsItsMessage() {
        InvalidInputException e = fails(() -> ChatTemplates.render(NAME,
                "{{ raise_exception('Conversation roles must alternate') }}", HI, false, Map.of()));
        assertEquals("chat template of " + NAME + " raised: Conversation roles must alternate", e.getMessage());
    }

    /** Runs a render that must fail within a few seconds with a jround error naming the template. */
    private static InvalidInputException fails(Supplier<String> render) {
        long t0 = System.nanoTime();
        InvalidInputException e = assertThrows(InvalidInputException.class, render::get);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 5_000, "took " + ms + " ms");
        assertTrue(e.getMessage().startsWith("chat template of " + NAME + " "), e.getMessage());
        assertFalse(e.getMessage().contains("Exception"), e.getMessage());
        return e;
    }
}
