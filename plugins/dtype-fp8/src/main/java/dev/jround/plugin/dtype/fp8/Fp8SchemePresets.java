package dev.jround.plugin.dtype.fp8;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference's FP8 presets (docs/algorithms.md): FPW8A16 (per-tensor FP8 weights, activations unquantized),
 * FP8_STATIC (per-channel weights, static per-tensor FP8 activations).
 */
public final class Fp8SchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = build();

    private static Map<String, QuantScheme> build() {
        Map<String, QuantScheme> m = new LinkedHashMap<>();
        m.put("FPW8A16", new QuantScheme(8, 0, true, Fp8DataType.DATA_TYPE, 16, 0, 0, "fp16"));
        m.put("FP8_STATIC", new QuantScheme(8, -1, true, Fp8DataType.DATA_TYPE, 8, 0, 0, "fp16"));
        return Map.copyOf(m);
    }

    @Override
    public PluginDescriptor descriptor() {
        List<String> names = new ArrayList<>(PRESETS.keySet());
        names.sort(null);
        return new PluginDescriptor(PluginKind.SCHEME, "fp8-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "FP8 presets FPW8A16, FP8_STATIC", Map.of("schemes", names));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }
}
