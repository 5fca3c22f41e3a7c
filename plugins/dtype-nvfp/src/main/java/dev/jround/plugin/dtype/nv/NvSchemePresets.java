package dev.jround.plugin.dtype.nv;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;
import java.util.Map;

/** The reference's NVFP4 preset (docs/algorithms.md): NVFP4 weights and activations, the activations' global scale static. */
public final class NvSchemePresets implements SchemePreset {

    private static final Map<String, QuantScheme> PRESETS = Map.of("NVFP4",
            new QuantScheme(4, NvDataType.GROUP, true, NvDataType.DATA_TYPE, 4, 0, 0, "fp16"));

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.SCHEME, "nvfp-presets", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "NVFP4 preset", Map.of("schemes", List.of("NVFP4")));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }
}
