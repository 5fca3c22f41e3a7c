package dev.jround.plugin.dtype.nv;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;
import java.util.Map;

/** The reference's NVFP4 preset (docs/algorithms.md): NVFP4 weights and activations, the activations' global scale static. */
public final class NvSchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = Map.of("NVFP4",
            QuantScheme.builder().bits(4).groupSize(NvDataType.GROUP).sym(true).dataType(NvDataType.DATA_TYPE)
                    .actBits(4).actGroupSize(NvDataType.GROUP).actSym(true).actDataType("nv_fp4_with_static_gs")
                    .actDynamic(true).build());

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.SCHEME, "nvfp-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "NVFP4 preset", Map.of("schemes", List.of("NVFP4")));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }

    /** Optimized RTN ({@code iters 0}) searches the NVFP4 scale with an importance matrix, as the reference does. */
    @Override
    public PresetTraits traits(String preset) {
        return PresetTraits.builder().importanceMatrix(PresetTraits.ImportanceMatrix.WHEN_SYMMETRIC).build();
    }
}
