package dev.jround.spi;

/**
 * Common root of every extension point. A plugin is found either by {@link java.util.ServiceLoader}
 * (flat class path) or as an OSGi service (embedded Felix host); in both worlds it reports who it is.
 */
public interface JroundPlugin {

    /** Identity, version and capabilities, shown by {@code jround plugins} and used for deterministic choice. */
    PluginDescriptor descriptor();
}
