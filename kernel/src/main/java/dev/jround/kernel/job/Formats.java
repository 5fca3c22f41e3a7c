package dev.jround.kernel.job;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.Exporter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Stage "resolve": the run's formats and the exporter behind each, from flags alone (nothing is read yet).
 *
 * @param request   the request with its formats filled in (no --format: the exporters' declared default)
 * @param names     the formats as requested, in order
 * @param exporters the exporter for each format, same order
 */
record Formats(QuantizeRequest request, List<String> names, List<Exporter> exporters) {

    static Formats resolve(PluginRegistry registry, QuantizeRequest r) {
        if (r.formats() == null) {
            // no --format: the format an exporter declares as the default (AutoRound's auto_round)
            r = r.toBuilder().formats(List.of(defaultFormat(registry))).build();
        }
        List<Exporter> exporters = new ArrayList<>();
        for (String f : r.formats()) {
            exporters.add(exporterFor(registry, f));
        }
        return new Formats(r, r.formats(), List.copyOf(exporters));
    }

    int size() {
        return names.size();
    }

    /** The first format whose exporter names the run directory itself (AutoRound: any GGUF format), if any. */
    Optional<String> runDirectorySuffix() {
        for (int i = 0; i < size(); i++) {
            var suffix = exporters.get(i).runDirectorySuffix(names.get(i));
            if (suffix.isPresent()) {
                return suffix;
            }
        }
        return Optional.empty();
    }

    /** The format of a run without --format: the first an installed exporter declares as the default. */
    private static String defaultFormat(PluginRegistry registry) {
        for (Exporter e : registry.all(Exporter.class)) {
            for (String f : e.formats()) {
                if (e.isDefault(f)) {
                    return f;
                }
            }
        }
        throw new InvalidInputException("no installed exporter declares a default format",
                "give --format; run 'jround list format' for the valid formats");
    }

    private static Exporter exporterFor(PluginRegistry registry, String format) {
        String f = format.toLowerCase(Locale.ROOT).trim();
        List<String> all = new ArrayList<>();
        for (Exporter e : registry.all(Exporter.class)) {
            for (String name : e.formats()) {
                if (name.equalsIgnoreCase(f)) {
                    return e;
                }
                all.add(name);
            }
        }
        all.sort(null);
        throw new InvalidInputException("unknown format '" + format + "'", "valid formats: " + String.join(", ", all));
    }
}
