package dev.jround.kernel.registry;

import dev.jround.spi.JroundPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks one plugin per id when several claim it: the pinned version if one is pinned
 * ({@code -Djround.pin.<id>=<version>}), else the highest version; ties keep discovery order.
 * The choice is logged once per conflict.
 */
public final class DuplicateResolver {

    private static final Logger LOG = LoggerFactory.getLogger(DuplicateResolver.class);

    private DuplicateResolver() {
    }

    public static <T extends JroundPlugin> List<T> resolve(List<T> candidates, Map<String, String> pins) {
        Map<String, List<T>> byId = new LinkedHashMap<>();
        for (T p : candidates) {
            byId.computeIfAbsent(p.descriptor().id().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(p);
        }
        List<T> out = new ArrayList<>();
        for (var e : byId.entrySet()) {
            List<T> list = e.getValue();
            T chosen;
            String pin = pins.get(e.getKey());
            if (pin != null) {
                chosen = list.stream().filter(p -> p.descriptor().version().equals(pin)).findFirst()
                        .orElseGet(() -> highest(list));
            } else {
                chosen = highest(list);
            }
            if (list.size() > 1) {
                LOG.info("{} plugins claim id '{}' ({}); using version {}{}", list.size(), e.getKey(),
                        list.stream().map(p -> p.descriptor().version()).toList(), chosen.descriptor().version(),
                        pin != null ? " (pinned)" : " (highest)");
            }
            out.add(chosen);
        }
        out.sort(Comparator.comparing(p -> p.descriptor().id()));
        return out;
    }

    private static <T extends JroundPlugin> T highest(List<T> list) {
        T best = list.get(0);
        for (T p : list) {
            if (VersionOrder.INSTANCE.compare(p.descriptor().version(), best.descriptor().version()) > 0) {
                best = p;
            }
        }
        return best;
    }

    /** Pins from system properties {@code jround.pin.<id>=<version>}. */
    public static Map<String, String> systemPins() {
        Map<String, String> pins = new LinkedHashMap<>();
        System.getProperties().forEach((k, v) -> {
            String key = k.toString();
            if (key.startsWith("jround.pin.")) {
                pins.put(key.substring("jround.pin.".length()).toLowerCase(Locale.ROOT), v.toString());
            }
        });
        return pins;
    }
}
