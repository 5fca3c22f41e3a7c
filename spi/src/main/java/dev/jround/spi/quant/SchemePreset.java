package dev.jround.spi.quant;

import dev.jround.spi.JroundPlugin;

import java.util.Map;
import java.util.Optional;

/** Named scheme presets ({@code W4A16}, {@code W2A16G32}, ...) contributed by a data-type family. */
public interface SchemePreset extends JroundPlugin {

    /** Upper-case preset name to scheme. */
    Map<String, QuantScheme> presets();

    /** What one of {@link #presets()} (upper-case name) implies for routing; {@link PresetTraits#NONE} by default. */
    default PresetTraits traits(String preset) {
        return PresetTraits.NONE;
    }

    /**
     * The preset that {@code --data_type dataType --bits bits} re-bases a run on when its own preset is not
     * {@link PresetTraits#fixed() fixed} (AutoRound's {@code *_dq} data types select a GGUF k-quant), or empty when
     * this plugin has none. Throws {@link dev.jround.spi.InvalidInputException} when the data type needs
     * {@code bits} and they are {@code null}.
     */
    default Optional<String> presetForDataType(String dataType, Integer bits) {
        return Optional.empty();
    }
}
