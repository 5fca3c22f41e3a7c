package dev.jround.spi.quant;

import dev.jround.spi.JroundPlugin;

import java.util.Map;

/** Named scheme presets ({@code W4A16}, {@code W2A16G32}, ...) contributed by a data-type family. */
public interface SchemePreset extends JroundPlugin {

    /** Upper-case preset name to scheme. */
    Map<String, QuantScheme> presets();
}
