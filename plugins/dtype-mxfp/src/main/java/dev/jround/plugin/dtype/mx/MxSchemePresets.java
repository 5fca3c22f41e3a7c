package dev.jround.plugin.dtype.mx;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference's MX presets (docs/algorithms.md): weights and activations in the same MX format, groups of 32,
 * symmetric, activations dynamic; the _RCEIL variants round the activations' shared scale up (RCEIL).
 */
public final class MxSchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = build();

    private static Map<String, QuantScheme> build() {
        Map<String, QuantScheme> m = new LinkedHashMap<>();
        m.put("MXFP4", mx(4, "mx_fp", "mx_fp"));
        m.put("MXFP4_RCEIL", mx(4, "mx_fp", "mx_fp_rceil"));
        m.put("MXFP8", mx(8, "mx_fp", "mx_fp"));
        m.put("MXFP8_RCEIL", mx(8, "mx_fp", "mx_fp_rceil"));
        m.put("MXINT4", mx(4, "mx_int", "mx_int"));
        return Map.copyOf(m);
    }

    private static QuantScheme mx(int bits, String dataType, String actDataType) {
        return QuantScheme.builder().bits(bits).groupSize(32).sym(true).dataType(dataType)
                .actBits(bits).actGroupSize(32).actSym(true).actDataType(actDataType).actDynamic(true).build();
    }

    @Override
    public PluginDescriptor descriptor() {
        List<String> names = new ArrayList<>(PRESETS.keySet());
        names.sort(null);
        return new PluginDescriptor(PluginKind.SCHEME, "mx-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "OCP microscaling presets MXFP4, MXFP8 (and _RCEIL), MXINT4", Map.of("schemes", names));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }

    /** Optimized RTN ({@code iters 0}) searches the MX scale with an importance matrix, as the reference does. */
    @Override
    public PresetTraits traits(String preset) {
        return PresetTraits.builder().importanceMatrix(PresetTraits.ImportanceMatrix.WHEN_SYMMETRIC).build();
    }
}
