package dev.jround.host;

import dev.jround.kernel.registry.DuplicateResolver;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.Spis;
import dev.jround.spi.JroundPlugin;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's {@link PluginRegistry} over the OSGi service registry of the embedded framework: one
 * {@link ServiceTracker} per extension point. Every lookup reads the trackers' current services, so a
 * bundle installed, updated or removed is visible at the next call; nothing here keeps a plugin object
 * once its service is gone (the resolved-winner cache is dropped on every service event).
 */
public final class OsgiPluginRegistry implements PluginRegistry, AutoCloseable {

    private final BundleContext context;
    private final Map<String, String> pins;
    private final Map<Class<?>, ServiceTracker<Object, Object>> trackers = new ConcurrentHashMap<>();
    private final Map<Class<?>, Resolved> winners = new ConcurrentHashMap<>();

    /**
     * @param context the context to track services in (the system bundle's, for a host outside the framework)
     * @param pins    id to pinned version, as {@link DuplicateResolver#systemPins()} returns
     */
    public OsgiPluginRegistry(BundleContext context, Map<String, String> pins) {
        this.context = context;
        this.pins = Map.copyOf(pins);
        for (Class<? extends JroundPlugin> spi : Spis.ALL) {
            tracker(spi);
        }
    }

    /** Grows whenever a plugin service appears, changes or disappears; pollers compare it to see a change. */
    public int changeCount() {
        return trackers.values().stream().mapToInt(ServiceTracker::getTrackingCount).sum();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends JroundPlugin> List<T> all(Class<T> type) {
        ServiceTracker<Object, Object> tracker = tracker(type);
        int count = tracker.getTrackingCount();
        Resolved cached = winners.get(type);
        if (cached == null || cached.trackingCount() != count) {
            cached = new Resolved(count, DuplicateResolver.resolve(current(type), pins));
            winners.put(type, cached);
        }
        return (List<T>) cached.plugins();
    }

    @Override
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (Class<? extends JroundPlugin> spi : Spis.ALL) {
            List<? extends JroundPlugin> chosen = all(spi);
            ServiceTracker<Object, Object> tracker = tracker(spi);
            for (ServiceReference<Object> ref : sortedReferences(tracker)) {
                Object service = tracker.getService(ref);
                if (service instanceof JroundPlugin plugin) {
                    boolean active = chosen.stream().anyMatch(w -> w == plugin);
                    out.add(new Entry(plugin.descriptor(), sourceOf(ref.getBundle()), spi, active));
                }
            }
        }
        return out;
    }

    /** The bundle that registered {@code plugin}, if it is a tracked service. */
    public Bundle bundleOf(JroundPlugin plugin) {
        for (ServiceTracker<Object, Object> tracker : trackers.values()) {
            for (ServiceReference<Object> ref : sortedReferences(tracker)) {
                if (tracker.getService(ref) == plugin) {
                    return ref.getBundle();
                }
            }
        }
        return null;
    }

    private <T extends JroundPlugin> List<T> current(Class<T> type) {
        ServiceTracker<Object, Object> tracker = tracker(type);
        List<T> out = new ArrayList<>();
        for (ServiceReference<Object> ref : sortedReferences(tracker)) {
            Object service = tracker.getService(ref);
            if (type.isInstance(service)) {
                out.add(type.cast(service));
            }
        }
        return out;
    }

    /** Registration order (service id), so that equal versions resolve as deterministically as on the class path. */
    private static List<ServiceReference<Object>> sortedReferences(ServiceTracker<Object, Object> tracker) {
        ServiceReference<Object>[] refs = tracker.getServiceReferences();
        if (refs == null) {
            return List.of();
        }
        List<ServiceReference<Object>> list = new ArrayList<>(Arrays.asList(refs));
        list.sort(Comparator.comparingLong(r -> (Long) r.getProperty("service.id")));
        return list;
    }

    private ServiceTracker<Object, Object> tracker(Class<?> spi) {
        return trackers.computeIfAbsent(spi, s -> {
            ServiceTracker<Object, Object> t = new ServiceTracker<>(context, s.getName(), new Customizer());
            t.open();
            return t;
        });
    }

    static String sourceOf(Bundle bundle) {
        if (bundle == null) {
            return "(gone)";
        }
        String location = bundle.getLocation();
        int slash = location.lastIndexOf('/');
        return (slash >= 0 ? location.substring(slash + 1) : location) + " [bundle " + bundle.getBundleId() + "]";
    }

    @Override
    public void close() {
        trackers.values().forEach(ServiceTracker::close);
        trackers.clear();
        winners.clear();
    }

    /** Winners of one extension point, valid while its tracker's tracking count is unchanged. */
    private record Resolved(int trackingCount, List<? extends JroundPlugin> plugins) {
    }

    /** Drops the resolved winners when a service goes, so that no removed plugin stays referenced here. */
    private final class Customizer implements ServiceTrackerCustomizer<Object, Object> {

        @Override
        public Object addingService(ServiceReference<Object> reference) {
            return context.getService(reference);
        }

        @Override
        public void modifiedService(ServiceReference<Object> reference, Object service) {
        }

        @Override
        public void removedService(ServiceReference<Object> reference, Object service) {
            winners.clear();
            context.ungetService(reference);
        }
    }
}
