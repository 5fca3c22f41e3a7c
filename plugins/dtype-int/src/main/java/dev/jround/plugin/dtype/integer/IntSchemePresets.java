package dev.jround.plugin.dtype.integer;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The integer weight-only presets of the reference (docs/algorithms.md) and BF16 ("keep high precision"). */
public final class IntSchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = build();

    private static Map<String, QuantScheme> build() {
        Map<String, QuantScheme> m = new LinkedHashMap<>();
        m.put("W4A16", QuantScheme.intWeightOnly(4, 128, true));
        m.put("W8A16", QuantScheme.intWeightOnly(8, 128, true));
        m.put("W3A16", QuantScheme.intWeightOnly(3, 128, true));
        m.put("W2A16", QuantScheme.intWeightOnly(2, 128, true));
        m.put("W2A16G64", QuantScheme.intWeightOnly(2, 64, true));
        m.put("W2A16G32", QuantScheme.intWeightOnly(2, 32, true));
        m.put("W5A16", QuantScheme.intWeightOnly(5, 128, true));
        m.put("W6A16", QuantScheme.intWeightOnly(6, 128, true));
        // W8A8: per-channel int8 weights, dynamic per-token symmetric int8 activations (INT8_W8A8 is the old name)
        QuantScheme w8a8 = QuantScheme.builder().bits(8).groupSize(-1).sym(true).dataType("int").actBits(8)
                .actGroupSize(-1).actSym(true).actDataType("int").actDynamic(true).build();
        m.put("INT8", w8a8);
        m.put("INT8_W8A8", w8a8);
        m.put("BF16", QuantScheme.builder().bits(16).groupSize(128).dataType("fp").actDataType("fp").build());
        return Map.copyOf(m);
    }

    @Override
    public PluginDescriptor descriptor() {
        List<String> names = new ArrayList<>(PRESETS.keySet());
        names.sort(null);
        return new PluginDescriptor(PluginKind.SCHEME, "int-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "integer presets W2A16 ... W8A16, INT8 (W8A8) and BF16", Map.of("schemes", names));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }

    /** AutoRound collects an imatrix for every symmetric {@code W*} preset (opt-RTN); W4A16 is its default scheme. */
    @Override
    public PresetTraits traits(String preset) {
        if (!preset.startsWith("W")) {
            return PresetTraits.NONE;
        }
        return PresetTraits.builder().importanceMatrix(PresetTraits.ImportanceMatrix.WHEN_SYMMETRIC)
                .isDefault(preset.equals("W4A16")).build();
    }
}
