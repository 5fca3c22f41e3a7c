package com.example.jround.fp16;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;
import java.util.Map;

/**
 * The {@code EXAMPLE_W3G64} preset: 3-bit asymmetric integer weights in groups of 64, fp16 scales.
 * Between jround's W3A16 (group 128, symmetric) and W2A16G64; asymmetric because at 3 bits the extra
 * zero point recovers more accuracy than it costs. The {@code EXAMPLE_} prefix keeps the name clear of
 * jround's own presets: preset names from all plugins share one namespace.
 */
public final class ExamplePresets implements SchemePreset {

    public static final String NAME = "EXAMPLE_W3G64";

    private static final Map<String, QuantScheme> PRESETS = Map.of(NAME, QuantScheme.intWeightOnly(3, 64, false));

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.SCHEME, "example-presets",
                PluginDescriptor.versionOf(ExamplePresets.class, "1.0.0"),
                "third-party example: " + NAME + " (int W3, group 64, asymmetric)", Map.of("schemes", List.of(NAME)));
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return PRESETS;
    }
}
