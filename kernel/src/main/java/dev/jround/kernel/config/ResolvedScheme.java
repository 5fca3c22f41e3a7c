package dev.jround.kernel.config;

import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;

import java.util.List;

/**
 * The run's default scheme after preset lookup, overrides and normalisation.
 *
 * @param presetName the upper-case preset it started from (after the {@code _dq} re-basing rule)
 * @param scheme     the normalised scheme (scale dtype included)
 * @param traits     what the preset's plugin declares about it
 * @param warnings   notes for the user (ignored overrides, bits taken from the data type ...)
 */
public record ResolvedScheme(String presetName, QuantScheme scheme, PresetTraits traits, List<String> warnings) {

    /** Whether the preset is a fixed recipe: overrides were ignored, and the kernel's lm_head and shape rules do not apply. */
    public boolean fixedPreset() {
        return traits.fixed();
    }
}
