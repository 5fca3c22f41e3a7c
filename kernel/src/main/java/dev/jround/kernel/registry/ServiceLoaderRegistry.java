package dev.jround.kernel.registry;

import dev.jround.spi.JroundPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Flat class-path discovery with {@link ServiceLoader}, used by the CLI. Plugins are instantiated
 * once per registry. A provider that fails to load is skipped with a log line, not fatal.
 */
public final class ServiceLoaderRegistry implements PluginRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceLoaderRegistry.class);

    private final ClassLoader loader;
    private final Map<Class<?>, List<? extends JroundPlugin>> cache = new ConcurrentHashMap<>();
    private final Map<String, String> pins;

    public ServiceLoaderRegistry(ClassLoader loader) {
        this.loader = loader;
        this.pins = DuplicateResolver.systemPins();
    }

    public ServiceLoaderRegistry() {
        this(ServiceLoaderRegistry.class.getClassLoader());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends JroundPlugin> List<T> all(Class<T> type) {
        return (List<T>) cache.computeIfAbsent(type, t -> DuplicateResolver.resolve(loadAll(type), pins));
    }

    private <T extends JroundPlugin> List<T> loadAll(Class<T> type) {
        List<T> found = new ArrayList<>();
        var it = ServiceLoader.load(type, loader).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                LOG.warn("skipping a {} plugin that failed to load: {}", type.getSimpleName(), e.getMessage());
            }
        }
        return found;
    }

    @Override
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (Class<? extends JroundPlugin> spi : Spis.ALL) {
            List<? extends JroundPlugin> winners = all(spi);
            for (JroundPlugin p : loadAll(spi)) {
                boolean active = winners.stream().anyMatch(w -> w.getClass() == p.getClass()
                        && w.descriptor().version().equals(p.descriptor().version()));
                out.add(new Entry(p.descriptor(), sourceOf(p.getClass()), spi, active));
            }
        }
        return out;
    }

    static String sourceOf(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        URL u = cs == null ? null : cs.getLocation();
        if (u == null) {
            return "?";
        }
        String s = u.getPath();
        int slash = s.lastIndexOf('/', s.endsWith("/") ? s.length() - 2 : s.length());
        return slash >= 0 ? s.substring(slash + 1) : s;
    }
}
