package dev.jround.host.jobs;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.Spis;
import dev.jround.spi.JroundPlugin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The plugins a job starts with, frozen: every extension point's winners at the moment the job starts. A bundle
 * installed, updated or removed later changes the host's live registry, not this one, so a running job keeps the
 * versions it began with (their bundles are leased meanwhile: {@link PluginLeases}).
 */
public final class RegistrySnapshot implements PluginRegistry {

    private final Map<Class<?>, List<? extends JroundPlugin>> plugins = new LinkedHashMap<>();
    private final List<Entry> entries;

    private RegistrySnapshot(PluginRegistry live) {
        for (Class<? extends JroundPlugin> spi : Spis.ALL) {
            plugins.put(spi, List.copyOf(live.all(spi)));
        }
        entries = List.copyOf(live.entries().stream().filter(Entry::active).toList());
    }

    public static RegistrySnapshot of(PluginRegistry live) {
        return new RegistrySnapshot(live);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends JroundPlugin> List<T> all(Class<T> type) {
        return (List<T>) plugins.getOrDefault(type, List.of());
    }

    @Override
    public List<Entry> entries() {
        return entries;
    }

    /** Every plugin object of the snapshot, for leasing their bundles. */
    public List<JroundPlugin> plugins() {
        List<JroundPlugin> out = new ArrayList<>();
        plugins.values().forEach(out::addAll);
        return out;
    }

    /**
     * Plugin id to version, sorted (what a job records as the plugins it ran with). Plugins of several kinds may share
     * an id (one jar's exporter and data type); when their versions differ, each is keyed {@code kind/id} instead.
     */
    public Map<String, String> versions() {
        Map<String, java.util.Set<String>> byId = new TreeMap<>();
        for (JroundPlugin p : plugins()) {
            byId.computeIfAbsent(p.descriptor().id(), k -> new java.util.TreeSet<>()).add(p.descriptor().version());
        }
        Map<String, String> out = new TreeMap<>();
        for (JroundPlugin p : plugins()) {
            String id = p.descriptor().id();
            String key = byId.get(id).size() == 1 ? id : p.descriptor().kind().label() + "/" + id;
            out.put(key, p.descriptor().version());
        }
        return out;
    }
}
