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
 * FP8_STATIC (per-channel weights, static per-tensor FP8 activations), FP8_BLOCK (128x128 weight blocks, dynamic
 * FP8 activations per token in groups of 128).
 */
public final class Fp8SchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = build();

    private static Map<String, QuantScheme> build() {
        Map<String, QuantScheme> m = new LinkedHashMap<>();
        m.put("FPW8A16", fp8().groupSize(0).actBits(16).actDataType(Fp8DataType.DATA_TYPE).build());
        m.put("FP8_STATIC", fp8().groupSize(-1).actBits(8).actGroupSize(0).actSym(true)
                .actDataType(Fp8DataType.DATA_TYPE).actDynamic(false).build());
        m.put("FP8_BLOCK", fp8().block(128, 128).actBits(8).actGroupSize(128).actSym(true)
                .actDataType(Fp8DataType.DATA_TYPE).actDynamic(true).build());
        return Map.copyOf(m);
    }

    private static QuantScheme.Builder fp8() {
        return QuantScheme.builder().bits(8).sym(true).dataType(Fp8DataType.DATA_TYPE);
    }

    @Override
    public PluginDescriptor descriptor() {
        List<String> names = new ArrayList<>(PRESETS.keySet());
        names.sort(null);
        return new PluginDescriptor(PluginKind.SCHEME, "fp8-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "FP8 presets FPW8A16, FP8_STATIC, FP8_BLOCK", Map.of("schemes", names));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }
}
