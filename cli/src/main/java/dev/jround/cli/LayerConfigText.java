package dev.jround.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parses the --layer_config flag value. */
final class LayerConfigText {
    private LayerConfigText() {
    }

    static Map<String, Object> parse(String text) {
        return new LinkedHashMap<>();
    }
}
