package dev.jround.kernel.config;

import dev.jround.spi.quant.QuantScheme;

import java.util.List;

/**
 * The run's default scheme after preset lookup, overrides and normalisation.
 *
 * @param presetName the upper-case preset it started from (after the {@code _dq} re-basing rule)
 * @param scheme     the normalised scheme (scale dtype included)
 * @param gguf       whether it is a GGUF preset (overrides are ignored, layer rules differ)
 * @param warnings   notes for the user (ignored overrides, bits taken from the data type ...)
 */
public record ResolvedScheme(String presetName, QuantScheme scheme, boolean gguf, List<String> warnings) {
}
