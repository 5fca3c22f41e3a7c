package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizationArgs;
import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchemeResolverTest {

    static final QuantScheme Q4_K = QuantScheme.builder().bits(4).groupSize(32).sym(false).dataType("int_asym_dq").superBits(6).superGroupSize(8).build();
    static final Map<String, QuantScheme> PRESETS = Map.of(
            "W4A16", QuantScheme.intWeightOnly(4, 128, true),
            "W2A16G32", QuantScheme.intWeightOnly(2, 32, true),
            "W8A16", QuantScheme.intWeightOnly(8, 128, true),
            "BF16", QuantScheme.builder().bits(16).groupSize(128).sym(true).dataType("fp").build(),
            "GGUF:Q4_K_S", Q4_K, "GGUF:Q4_K_M", Q4_K);

    /** The presets above with the traits their plugins (dtype-int, export-gguf) declare. */
    static final SchemePreset CATALOG_PLUGIN = new SchemePreset() {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.SCHEME, "test-presets", "1.0.0", "");
        }

        @Override
        public Map<String, QuantScheme> presets() {
            return PRESETS;
        }

        @Override
        public PresetTraits traits(String preset) {
            if (preset.startsWith("GGUF:")) {
                return PresetTraits.builder().family("GGUF").fixed(true).format(preset.toLowerCase())
                        .importanceMatrix(PresetTraits.ImportanceMatrix.ALWAYS).build();
            }
            return PresetTraits.builder().isDefault(preset.equals("W4A16")).build();
        }

        @Override
        public Optional<String> presetForDataType(String dataType, Integer bits) {
            if (!dataType.endsWith("_dq")) {
                return Optional.empty();
            }
            if (bits == null) {
                throw new InvalidInputException("--data_type " + dataType + " needs --bits", "");
            }
            return Optional.of("GGUF:Q" + bits + "_K_S");
        }
    };

    static final PresetCatalog CATALOG = PresetCatalog.of(List.of(CATALOG_PLUGIN));

    @Test
    void presetNamesAreCaseInsensitiveAndDefaultIsW4A16() {
        assertEquals(QuantScheme.intWeightOnly(2, 32, true), SchemeResolver.resolve("w2a16g32", null, CATALOG).scheme());
        ResolvedScheme d = SchemeResolver.resolve(null, SchemeOverrides.NONE, CATALOG);
        assertEquals("W4A16", d.presetName());
        assertEquals(QuantScheme.intWeightOnly(4, 128, true), d.scheme());
        assertFalse(d.fixedPreset());
    }

    @Test
    void overridesApplyOnTop() {
        QuantScheme s = SchemeResolver.resolve("W4A16", new SchemeOverrides(3, 32, false, null, "bfloat16", null), CATALOG).scheme();
        assertEquals(QuantScheme.builder().bits(3).groupSize(32).sym(false).dataType("int").scaleDtype("bf16").build(), s);
        assertEquals(-1, SchemeResolver.resolve("W4A16", new SchemeOverrides(null, -1, null, null, null, null), CATALOG).scheme().groupSize());
        assertEquals(0, SchemeResolver.resolve("W4A16", new SchemeOverrides(null, 0, null, null, null, null), CATALOG).scheme().groupSize());
    }

    @Test
    void dataTypeDigitsGiveTheBits() {
        ResolvedScheme r = SchemeResolver.resolve("W4A16", new SchemeOverrides(null, null, null, "int2", null, null), CATALOG);
        assertEquals(2, r.scheme().bits());
        assertEquals("int", r.scheme().dataType());
        assertEquals(1, r.warnings().size());
        QuantScheme mx = SchemeResolver.resolve("W4A16", new SchemeOverrides(null, 32, null, "mx_fp8", null, null), CATALOG).scheme();
        assertEquals(8, mx.bits());
        assertEquals("mx_fp", mx.dataType());
        assertEquals(8, SchemeResolver.inferredBits("fp8"));
        assertEquals(-1, SchemeResolver.inferredBits("int_sym"));
    }

    @Test
    void badValuesNameTheFlagAndTheValidValues() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SchemeResolver.resolve("W5X", null, CATALOG));
        assertTrue(e.getMessage().contains("W5X"));
        assertTrue(e.hint().contains("W2A16G32") && e.hint().contains("W4A16"));
        e = assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", new SchemeOverrides(0, null, null, null, null, null), CATALOG));
        assertTrue(e.getMessage().contains("--bits"));
        e = assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", new SchemeOverrides(12, null, null, null, null, null), CATALOG));
        assertTrue(e.getMessage().contains("--bits 12"));
        e = assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", new SchemeOverrides(null, -2, null, null, null, null), CATALOG));
        assertTrue(e.getMessage().contains("--group_size"));
        e = assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", new SchemeOverrides(null, null, null, null, "int8", null), CATALOG));
        assertTrue(e.getMessage().contains("--scale_dtype") && e.hint().contains("bfloat16"));
    }

    @Test
    void ggufPresetsIgnoreOverridesAndUseFp32Scales() {
        ResolvedScheme r = SchemeResolver.resolve("gguf:q4_k_m", new SchemeOverrides(2, 64, true, null, null, null), CATALOG);
        assertTrue(r.fixedPreset());
        assertEquals(4, r.scheme().bits());
        assertEquals(32, r.scheme().groupSize());
        assertEquals("fp32", r.scheme().scaleDtype());
        assertEquals(List.of("scheme GGUF:Q4_K_M is a GGUF preset: --bits/--group_size/--sym/--data_type overrides are ignored"),
                r.warnings());
        assertEquals("gguf:q4_k_m", r.traits().format());
        assertEquals(Optional.of("GGUF:Q4_K_M"), CATALOG.presetForFormat("GGUF:q4_k_m"));
        assertEquals(Optional.empty(), CATALOG.presetForFormat("auto_round"));
    }

    @Test
    void doubleQuantDataTypeRebasesOnTheGgufPreset() {
        ResolvedScheme r = SchemeResolver.resolve("W4A16", new SchemeOverrides(4, null, null, "int_asym_dq", null, null), CATALOG);
        assertEquals("GGUF:Q4_K_S", r.presetName());
        assertTrue(r.fixedPreset());
        assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", new SchemeOverrides(null, null, null, "int_asym_dq", null, null), CATALOG));
    }

    @Test
    void optRtnIsOffForW8UnlessTheUserSaysOtherwise() {
        assertTrue(SchemeResolver.effectiveDisableOptRtn(null, PRESETS.get("W8A16")));
        assertFalse(SchemeResolver.effectiveDisableOptRtn(null, PRESETS.get("W4A16")));
        assertFalse(SchemeResolver.effectiveDisableOptRtn(false, PRESETS.get("W8A16")));
        assertTrue(SchemeResolver.effectiveDisableOptRtn(true, PRESETS.get("W4A16")));
    }

    @Test
    void aPresetTwoPluginsDeclareIsRefusedByName() {
        SchemePreset other = new SchemePreset() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.SCHEME, "other-presets", "2.0.0", "");
            }

            @Override
            public Map<String, QuantScheme> presets() {
                return Map.of("w4a16", QuantScheme.intWeightOnly(4, 32, false), "W7X", QuantScheme.intWeightOnly(7, 32, true));
            }
        };
        PresetCatalog both = PresetCatalog.of(List.of(CATALOG_PLUGIN, other));
        assertEquals(Map.of("W4A16", List.of("test-presets 1.0.0", "other-presets 2.0.0")), both.clashes());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> SchemeResolver.resolve("W4A16", SchemeOverrides.NONE, both));
        assertTrue(e.getMessage().contains("test-presets 1.0.0, other-presets 2.0.0"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> SchemeResolver.resolve(null, SchemeOverrides.NONE, both),
                "the default preset is refused too when it is ambiguous");
        assertEquals(7, SchemeResolver.resolve("w7x", SchemeOverrides.NONE, both).scheme().bits());
        assertEquals(Map.of(), CATALOG.clashes());
    }

    @Test
    void activationFlagsReachTheScheme() {
        SchemeOverrides o = new SchemeOverrides(null, 32, null, "mx_fp8", null, null, null, false, "mx_fp8", false);
        QuantScheme s = SchemeResolver.resolve("W4A16", o, CATALOG).scheme();
        assertEquals("mx_fp", s.dataType());
        assertEquals(8, s.bits());
        assertEquals("mx_fp", s.actDataType(), "act data type digits give the act bits and are dropped");
        assertEquals(8, s.actBits());
        assertEquals(32, s.actGroupSize(), "the act group follows the weights when not given");
        assertEquals(false, s.actSym());
        assertEquals(false, s.actDynamic());
        QuantScheme perToken = SchemeResolver.resolve("W8A16", new SchemeOverrides(null, -1, null, null, null, 8, -1, null, "int", null),
                CATALOG).scheme();
        assertEquals(QuantizationArgs.Strategy.TOKEN, perToken.activations().strategy());
        assertEquals(true, perToken.actDynamic());
    }
}
