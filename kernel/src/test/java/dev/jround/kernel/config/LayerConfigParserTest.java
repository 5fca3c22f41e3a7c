package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LayerConfigParserTest {

    @Test
    void strictJson() {
        Map<String, Object> m = LayerConfigParser.parse("{\"k_proj\": {\"bits\": 8, \"sym\": false}, \"lm_head\": \"W8A16\"}");
        assertEquals(List.of("k_proj", "lm_head"), List.copyOf(m.keySet()));
        assertEquals(Map.of("bits", 8, "sym", false), m.get("k_proj"));
        assertEquals("W8A16", m.get("lm_head"));
    }

    @Test
    void jsonWithRegexBackslashesIsRepaired() {
        Map<String, Object> m = LayerConfigParser.parse("{\"layers\\.\\d+\\.mlp\": {\"bits\": 16}}");
        assertEquals(List.of("layers\\.\\d+\\.mlp"), List.copyOf(m.keySet()));
    }

    @Test
    void relaxedCompactForm() {
        Map<String, Object> m = LayerConfigParser.parse("{k_proj:{bits:8},v_proj:{bits:8, group_size: -1, sym: False},}");
        assertEquals(List.of("k_proj", "v_proj"), List.copyOf(m.keySet()));
        assertEquals(Map.of("bits", 8), m.get("k_proj"));
        assertEquals(Map.of("bits", 8, "group_size", -1, "sym", false), m.get("v_proj"));
        Map<String, Object> preset = LayerConfigParser.parse("'{mlp.down_proj: W8A16}'");
        assertEquals("W8A16", preset.get("mlp.down_proj"));
    }

    @Test
    void scalarsAreNormalisedInEveryMode() {
        assertEquals(8, LayerConfigParser.normalizeScalar("8"));
        assertEquals(-1, LayerConfigParser.normalizeScalar("-1"));
        assertEquals(1.5, LayerConfigParser.normalizeScalar("1.5"));
        assertEquals(true, LayerConfigParser.normalizeScalar("TRUE"));
        assertNull(LayerConfigParser.normalizeScalar("None"));
        assertEquals("fp16", LayerConfigParser.normalizeScalar("\u201Cfp16\u201D"));
        assertEquals("8f", LayerConfigParser.normalizeScalar("8f"), "Python float() rejects 8f, so it stays a string");
        Map<String, Object> m = LayerConfigParser.parse("{\"q_proj\": {\"bits\": \"4\", \"sym\": \"false\"}}");
        assertEquals(Map.of("bits", 4, "sym", false), m.get("q_proj"));
    }

    @Test
    void garbageIsRejectedWithTheFlagName() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> LayerConfigParser.parse("{k_proj {bits:8}}"));
        assertEquals(true, e.getMessage().contains("--layer_config"));
        assertThrows(InvalidInputException.class, () -> LayerConfigParser.parse("[1, 2]"));
        assertEquals(Map.of(), LayerConfigParser.parse("  "));
    }
}
