package dev.jround.kernel.registry;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.PluginDescriptor;

import java.util.List;
import java.util.Optional;

/**
 * The kernel's view of installed plugins, independent of how they were found (flat class path via
 * ServiceLoader, or OSGi services in the embedded Felix host). Lookups are live: an OSGi registry
 * reflects bundles installed, updated or removed since the last call.
 */
public interface PluginRegistry {

    /** Every plugin implementing {@code type}, one per id (the winner of duplicate ids), sorted by id. */
    <T extends JroundPlugin> List<T> all(Class<T> type);

    /** The plugin of {@code type} with this id (case-insensitive); the highest version wins unless pinned. */
    default <T extends JroundPlugin> Optional<T> find(Class<T> type, String id) {
        return all(type).stream().filter(p -> p.descriptor().id().equalsIgnoreCase(id)).findFirst();
    }

    /** Descriptor of every plugin of every kind, with where it came from. */
    List<Entry> entries();

    /** One installed plugin and where it came from (a jar path or a bundle symbolic name). */
    record Entry(PluginDescriptor descriptor, String source, Class<?> spi, boolean active) {
    }
}
