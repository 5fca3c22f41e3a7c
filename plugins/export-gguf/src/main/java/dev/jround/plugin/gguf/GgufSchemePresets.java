package dev.jround.plugin.gguf;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The reference's GGUF presets (docs/algorithms.md): the weight settings of each mixture's base type. The
 * {@code _S/_M/_L} variants share them; the per-tensor mix is applied by the GGUF exporter.
 */
public final class GgufSchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = build();

    private static QuantScheme scheme(int bits, int group, boolean sym, String dataType, int superBits, int superGroup) {
        return QuantScheme.builder().bits(bits).groupSize(group).sym(sym).dataType(dataType)
                .superBits(superBits).superGroupSize(superGroup).scaleDtype("fp32").build();
    }

    private static Map<String, QuantScheme> build() {
        Map<String, QuantScheme> m = new LinkedHashMap<>();
        m.put("GGUF:Q4_0", scheme(4, 32, true, "int", 0, 0));
        m.put("GGUF:Q4_1", scheme(4, 32, false, GgufDataType.ASYM_FLOAT_ZP, 0, 0));
        m.put("GGUF:Q5_0", scheme(5, 32, true, "int", 0, 0));
        m.put("GGUF:Q5_1", scheme(5, 32, false, GgufDataType.ASYM_FLOAT_ZP, 0, 0));
        m.put("GGUF:Q8_0", scheme(8, 32, true, "int", 0, 0));
        m.put("GGUF:Q2_K_S", scheme(2, 16, false, GgufDataType.ASYM_DQ, 4, 16));
        for (String s : new String[]{"S", "M", "L"}) {
            m.put("GGUF:Q3_K_" + s, scheme(3, 16, true, GgufDataType.SYM_DQ, 6, 16));
        }
        for (String s : new String[]{"S", "M"}) {
            m.put("GGUF:Q4_K_" + s, scheme(4, 32, false, GgufDataType.ASYM_DQ, 6, 8));
            m.put("GGUF:Q5_K_" + s, scheme(5, 32, false, GgufDataType.ASYM_DQ, 6, 8));
        }
        m.put("GGUF:Q6_K", scheme(6, 16, true, GgufDataType.SYM_DQ, 8, 16));
        return Map.copyOf(m);
    }

    @Override
    public PluginDescriptor descriptor() {
        List<String> names = new ArrayList<>(PRESETS.keySet());
        names.sort(null);
        return new PluginDescriptor(PluginKind.SCHEME, "gguf-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "GGUF presets GGUF:Q2_K_S ... GGUF:Q8_0 (weights of each mixture's base type)", Map.of("schemes", names));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }

    /**
     * Each preset is selected by its format ({@code gguf:q4_k_m} is GGUF:Q4_K_M), takes no overrides (the mixture
     * decides every tensor), and a k-quant always collects an imatrix (its scale/min search is importance-weighted).
     */
    @Override
    public PresetTraits traits(String preset) {
        if (!PRESETS.containsKey(preset)) {
            return PresetTraits.NONE;
        }
        return PresetTraits.builder().family("GGUF").fixed(true).format(preset.toLowerCase(Locale.ROOT))
                .importanceMatrix(preset.contains("_K") ? PresetTraits.ImportanceMatrix.ALWAYS
                        : PresetTraits.ImportanceMatrix.BY_SCHEME)
                .build();
    }

    /** AutoRound's double-quant data types ({@code int_asym_dq}, {@code int_sym_dq}) select the k-quant of their bits. */
    @Override
    public Optional<String> presetForDataType(String dataType, Integer bits) {
        if (dataType == null || !dataType.endsWith("_dq")) {
            return Optional.empty();
        }
        if (bits == null) {
            throw new InvalidInputException("--data_type " + dataType + " needs --bits",
                    "give --bits 2..6 with a *_dq data type, or pick a GGUF preset with --scheme");
        }
        return Optional.of(bits == 6 ? "GGUF:Q6_K" : "GGUF:Q" + bits + "_K_S");
    }
}
