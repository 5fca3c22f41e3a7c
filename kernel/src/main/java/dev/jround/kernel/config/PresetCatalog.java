package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The presets of the installed {@link SchemePreset} plugins with what each declares about itself: the kernel asks
 * these traits (default preset, format link, fixed recipe, imatrix rule, data-type re-basing) instead of reading
 * meaning into preset names.
 */
public final class PresetCatalog {

    private final Map<String, QuantScheme> schemes = new TreeMap<>();
    private final Map<String, PresetTraits> traits = new LinkedHashMap<>();
    private final Map<String, List<String>> declaredBy = new TreeMap<>();
    private final List<SchemePreset> plugins;

    private PresetCatalog(List<SchemePreset> plugins) {
        this.plugins = List.copyOf(plugins);
        for (SchemePreset p : this.plugins) {
            String id = p.descriptor().id() + " " + p.descriptor().version();
            p.presets().forEach((k, v) -> {
                String name = k.toUpperCase(Locale.ROOT);
                declaredBy.computeIfAbsent(name, n -> new ArrayList<>()).add(id);
                if (!schemes.containsKey(name)) {
                    schemes.put(name, v);
                    traits.put(name, p.traits(k));
                }
            });
        }
    }

    /** Preset names that more than one installed plugin declares, with the plugins (id and version) declaring each. */
    public Map<String, List<String>> clashes() {
        Map<String, List<String>> r = new TreeMap<>();
        declaredBy.forEach((n, ids) -> {
            if (ids.size() > 1) {
                r.put(n, List.copyOf(ids));
            }
        });
        return r;
    }

    /**
     * Refuses a preset name that several plugins declare: which one a run would get must not depend on the order
     * plugins were installed in.
     */
    public void requireUnambiguous(String upperName) {
        List<String> ids = declaredBy.getOrDefault(upperName, List.of());
        if (ids.size() > 1) {
            throw new InvalidInputException("scheme " + upperName + " is declared by several installed plugins: "
                    + String.join(", ", ids), "remove or update one of them ('jround plugins' lists where each comes from)");
        }
    }

    /** @param plugins in registry order (sorted by id), which decides ties */
    public static PresetCatalog of(List<SchemePreset> plugins) {
        return new PresetCatalog(plugins);
    }

    /** Upper-case preset name to scheme. */
    public Map<String, QuantScheme> schemes() {
        return schemes;
    }

    /** The traits of an upper-case preset name; {@link PresetTraits#NONE} for a name no plugin has. */
    public PresetTraits traits(String upperName) {
        return traits.getOrDefault(upperName, PresetTraits.NONE);
    }

    /** The preset a run uses without {@code --scheme}. */
    public String defaultPreset() {
        return traits.entrySet().stream().filter(e -> e.getValue().isDefault()).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new InvalidInputException("no installed scheme plugin declares a default scheme",
                        "give --scheme; valid schemes: " + String.join(", ", schemes.keySet())));
    }

    /** The preset that {@code format} selects (case-insensitive), if one declares it. */
    public Optional<String> presetForFormat(String format) {
        for (Map.Entry<String, PresetTraits> e : traits.entrySet()) {
            if (!e.getValue().format().isEmpty() && e.getValue().format().equalsIgnoreCase(format.strip())) {
                return Optional.of(e.getKey());
            }
        }
        return Optional.empty();
    }

    /** The preset a data type re-bases a run on ({@link SchemePreset#presetForDataType}), first plugin first. */
    public Optional<String> presetForDataType(String dataType, Integer bits) {
        for (SchemePreset p : plugins) {
            Optional<String> name = p.presetForDataType(dataType, bits);
            if (name.isPresent()) {
                return name.map(n -> n.toUpperCase(Locale.ROOT));
            }
        }
        return Optional.empty();
    }

    /** Every preset name, for messages. */
    public List<String> names() {
        return new ArrayList<>(schemes.keySet());
    }
}
