package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerConfigResolverTest {

    static final Map<String, QuantScheme> PRESETS = SchemeResolverTest.PRESETS;
    static final ResolvedScheme W4 = SchemeResolver.resolve("W4A16", null, SchemeResolverTest.CATALOG);

    static LayerConfigResolver.Resolution resolve(FakeModel m, Map<String, ?> cfg, String ignore, boolean lmHead) {
        return LayerConfigResolver.resolve(m, W4, cfg, ignore, lmHead, PRESETS);
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void defaultsQuantizeBlockLayersAndKeepOddShapesAndTheHeadInFullPrecision() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(2, false), Map.of(), "", false);
        assertEquals(2 * 7 + 1, r.layers().size());
        LayerSpec q = r.layer("model.layers.0.self_attn.q_proj");
        assertEquals(QuantScheme.intWeightOnly(4, 128, true), q.scheme());
        assertFalse(q.fixedByUser());
        assertEquals(0, q.blockIndex());
        LayerSpec down = r.layer("model.layers.1.mlp.down_proj");
        assertFalse(down.quantized());
        assertTrue(down.fixedByUser());
        assertTrue(down.reason().contains("not divisible by 32"));
        LayerSpec head = r.layer("lm_head");
        assertFalse(head.quantized());
        assertEquals(-1, head.blockIndex());
        assertFalse(r.quantLmHead());
    }

    @Test
    void blocksAndActivationArgumentsSurviveTheLayerConfig() {
        QuantScheme fp8Block = QuantScheme.builder().bits(8).block(128, 128).dataType("fp").actBits(8).actGroupSize(128)
                .actDataType("fp").actDynamic(false).build();
        ResolvedScheme base = new ResolvedScheme("TEST_BLOCK", fp8Block, W4.traits(), List.of());
        LayerConfigResolver.Resolution r = LayerConfigResolver.resolve(new FakeModel(1, false), base,
                map("k_proj", map("bits", 8, "group_size", List.of(64, 32))), "", false, PRESETS);
        assertEquals(fp8Block, r.layer("model.layers.0.self_attn.q_proj").scheme(), "default layers keep blocks and act args");
        QuantScheme k = r.layer("model.layers.0.self_attn.k_proj").scheme();
        assertEquals(64, k.weights().blockRows());
        assertEquals(32, k.groupSize());
        assertEquals(128, k.actGroupSize(), "activation arguments come from the default scheme");
        assertFalse(k.actDynamic());
    }

    @Test
    void shapeRuleBeatsAnExplicitUserEntry() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), map("model.layers.0.mlp.up_proj", map("bits", 8)), "", false);
        assertFalse(r.layer("model.layers.0.mlp.up_proj").quantized());
    }

    @Test
    void exactNamesSubstringsAndRegexes() {
        Map<String, Object> cfg = map(
                "model.layers.0.self_attn.q_proj", map("bits", 8),
                "k_proj", map("bits", 2, "group_size", 32),
                "layers.[1-2].self_attn.v_proj", map("bits", 3, "sym", false));
        LayerConfigResolver.Resolution r = resolve(new FakeModel(3, false), cfg, "", false);
        assertEquals(8, r.layer("model.layers.0.self_attn.q_proj").scheme().bits());
        assertEquals(128, r.layer("model.layers.0.self_attn.q_proj").scheme().groupSize(), "missing fields come from the default");
        assertTrue(r.layer("model.layers.0.self_attn.q_proj").fixedByUser());
        assertEquals(4, r.layer("model.layers.1.self_attn.q_proj").scheme().bits());
        for (int b = 0; b < 3; b++) {
            assertEquals(QuantScheme.intWeightOnly(2, 32, true), r.layer("model.layers." + b + ".self_attn.k_proj").scheme());
        }
        assertEquals(4, r.layer("model.layers.0.self_attn.v_proj").scheme().bits());
        assertEquals(QuantScheme.intWeightOnly(3, 128, false), r.layer("model.layers.2.self_attn.v_proj").scheme());
        assertTrue(r.regexConfig().containsKey("k_proj"));
        // as in the reference, a backslash before a dot in a partial regex matches a literal backslash
        assertFalse(java.util.regex.Pattern.compile(LayerConfigResolver.toStandardRegex("layers\\.[1-2]\\.v_proj"))
                .matcher("model.layers.1.v_proj").find());
        assertTrue(r.layer("model.layers.1.self_attn.v_proj").reason().contains("layer_config"));
    }

    @Test
    void laterPatternsWinAndAnyPatternBeatsAnExactName() {
        Map<String, Object> cfg = map(
                "model.layers.0.self_attn.o_proj", map("bits", 8),
                "self_attn", map("bits", 3),
                "o_proj", map("bits", 2));
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), cfg, "", false);
        assertEquals(2, r.layer("model.layers.0.self_attn.o_proj").scheme().bits(), "the pattern overrides the exact key (quirk Q3)");
        assertEquals(3, r.layer("model.layers.0.self_attn.q_proj").scheme().bits());
    }

    @Test
    void partialRegexRules() {
        assertEquals(".*model\\.decoder\\.layers.*k_proj.*", LayerConfigResolver.toStandardRegex("model.decoder.layers.*k_proj"));
        assertEquals(".*mlp\\.gate$", LayerConfigResolver.toStandardRegex("mlp.gate$"));
        assertEquals(".*\\Qa*b\\E.*", LayerConfigResolver.toStandardRegex("a*b"), "a bare * is a literal asterisk");
    }

    @Test
    void ignoreLayersEndingInADigitDoNotTouchLongerIndices() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(12, false), Map.of(), "layers.1, k_proj", false);
        assertFalse(r.layer("model.layers.1.self_attn.q_proj").quantized());
        assertTrue(r.layer("model.layers.10.self_attn.q_proj").quantized());
        assertFalse(r.layer("model.layers.5.self_attn.k_proj").quantized());
        assertTrue(r.layer("model.layers.1.self_attn.q_proj").reason().contains("ignore_layers"));
        assertEquals(List.of("layers.1.", "k_proj"), LayerConfigResolver.ignoreItems(" layers.1 ,k_proj,"));
    }

    @Test
    void ignoreItemsComeAfterUserPatternsAndWin() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), map("q_proj", map("bits", 8)), "q_proj", false);
        assertFalse(r.layer("model.layers.0.self_attn.q_proj").quantized());
    }

    @Test
    void lmHeadRules() {
        LayerConfigResolver.Resolution untied = resolve(new FakeModel(1, false), Map.of(), "", true);
        assertTrue(untied.quantLmHead());
        assertEquals(QuantScheme.intWeightOnly(4, 128, true), untied.layer("lm_head").scheme());
        assertEquals(-1, untied.layer("lm_head").blockIndex());

        LayerConfigResolver.Resolution named = resolve(new FakeModel(1, false), map("lm_head", "W8A16"), "", false);
        assertTrue(named.quantLmHead(), "an lm_head entry implies quant_lm_head");
        assertEquals(8, named.layer("lm_head").scheme().bits());

        LayerConfigResolver.Resolution tied = resolve(new FakeModel(1, true), map("lm_head", "W8A16"), "", true);
        assertFalse(tied.quantLmHead());
        assertFalse(tied.layer("lm_head").quantized());
        assertTrue(tied.warnings().get(0).contains("quant_lm_head reset"));
    }

    @Test
    void presetValuesSchemeKeyAndScaleDtype() {
        Map<String, Object> cfg = map("q_proj", map("scheme", "W2A16G32", "sym", false, "scale_dtype", "float32"),
                "v_proj", "w8a16", "o_proj", map("data_type", "int3"));
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), cfg, "", false);
        assertEquals(QuantScheme.builder().bits(2).groupSize(32).sym(false).dataType("int").scaleDtype("fp32").build(), r.layer("model.layers.0.self_attn.q_proj").scheme());
        assertEquals(QuantScheme.intWeightOnly(8, 128, true), r.layer("model.layers.0.self_attn.v_proj").scheme());
        assertEquals(QuantScheme.intWeightOnly(3, 128, true), r.layer("model.layers.0.self_attn.o_proj").scheme());
    }

    @Test
    void compactCliFormEndToEnd() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(2, false),
                LayerConfigParser.parse("{k_proj:{bits:8},v_proj:{bits:8}}"), "", false);
        assertEquals(8, r.layer("model.layers.1.self_attn.k_proj").scheme().bits());
        assertEquals(8, r.layer("model.layers.0.self_attn.v_proj").scheme().bits());
        assertEquals(4, r.layer("model.layers.0.self_attn.q_proj").scheme().bits());
    }

    @Test
    void unmatchedPatternsWarnAndBadEntriesFailWithTheirName() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), map("no_such_layer", map("bits", 8)), "", false);
        assertTrue(r.warnings().get(0).contains("no_such_layer"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> resolve(new FakeModel(1, false), map("q_proj", map("bitz", 8)), "", false));
        assertTrue(e.getMessage().contains("bitz") && e.hint().contains("group_size"));
        e = assertThrows(InvalidInputException.class, () -> resolve(new FakeModel(1, false), map("q_proj", map("group_size", -5)), "", false));
        assertTrue(e.getMessage().contains("group_size") && e.getMessage().contains("q_proj"));
        e = assertThrows(InvalidInputException.class, () -> resolve(new FakeModel(1, false), map("q_proj", map("bits", "eight")), "", false));
        assertTrue(e.getMessage().contains("bits"));
        e = assertThrows(InvalidInputException.class, () -> resolve(new FakeModel(1, false), map("q_proj", "W9"), "", false));
        assertTrue(e.getMessage().contains("W9") && e.hint().contains("W4A16"));
        e = assertThrows(InvalidInputException.class, () -> resolve(new FakeModel(1, false), map("layers.(", map("bits", 8)), "", false));
        assertTrue(e.getMessage().contains("layers.("));
    }

    @Test
    void groupThatDoesNotDivideIsKeptForPadding() {
        // 64-wide rows with group 48: not divisible, but the int shape rule only looks at multiples of 32
        ResolvedScheme g48 = SchemeResolver.resolve("W4A16", new SchemeOverrides(null, 48, null, null, null, null), SchemeResolverTest.CATALOG);
        LayerConfigResolver.Resolution r = LayerConfigResolver.resolve(new FakeModel(1, false), g48, Map.of(), "", false, PRESETS);
        assertEquals(48, r.layer("model.layers.0.self_attn.q_proj").scheme().groupSize());
        assertTrue(r.layer("model.layers.0.self_attn.q_proj").quantized());
    }

    @Test
    void printConfigTable() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(1, false), map("k_proj", map("bits", 8)), "", false);
        String t = ConfigTable.render(r.layers());
        assertTrue(t.startsWith("layer"));
        assertTrue(t.contains("model.layers.0.self_attn.k_proj"));
        assertTrue(t.contains("4 of 8 linear layers quantized"), t);
        assertTrue(t.contains("172 x 64"));
        assertEquals(r.layers().size() + 2, t.split("\n").length);
    }
}
