package dev.jround.host;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.PluginDescriptor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.util.tracker.BundleTrackerCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

/**
 * The host's own ServiceLoader-mediator registrar (OSGi Compendium 133, registrar half only): for every
 * active bundle that declares {@code osgi.serviceloader} capabilities (bnd generates them from the
 * bundle's {@code META-INF/services} files) it instantiates the providers through the bundle's class
 * loader and registers them as OSGi services <em>in the bundle's own context</em>. The framework then
 * withdraws them by itself when the bundle stops, is updated or uninstalled, which is what keeps the
 * registry free of stale references.
 *
 * <p>Weaving consumers (SPI Fly's other half) is not needed: the kernel consumes plugins through the
 * service registry, and the one library that calls {@code ServiceLoader} itself (DJL) lives on the
 * framework class path.
 */
final class ServiceLoaderRegistrar implements BundleTrackerCustomizer<List<ServiceRegistration<?>>> {

    static final String NAMESPACE = "osgi.serviceloader";
    static final String PROP_ID = "jround.id";
    static final String PROP_VERSION = "jround.version";
    static final String PROP_KIND = "jround.kind";

    private static final Logger LOG = LoggerFactory.getLogger(ServiceLoaderRegistrar.class);

    @Override
    public List<ServiceRegistration<?>> addingBundle(Bundle bundle, BundleEvent event) {
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        if (bundle.getBundleId() == 0 || revision == null) {
            return null;
        }
        List<ServiceRegistration<?>> registrations = new ArrayList<>();
        for (BundleCapability capability : revision.getDeclaredCapabilities(NAMESPACE)) {
            Object spi = capability.getAttributes().get(NAMESPACE);
            if (!(spi instanceof String spiName)) {
                continue;
            }
            String register = capability.getDirectives().get("register");
            List<String> providers = register != null ? List.of(register.trim()) : servicesFile(bundle, spiName);
            for (String provider : providers) {
                ServiceRegistration<?> registration = register(bundle, spiName, provider);
                if (registration != null) {
                    registrations.add(registration);
                }
            }
        }
        return registrations.isEmpty() ? null : registrations;
    }

    private ServiceRegistration<?> register(Bundle bundle, String spiName, String providerName) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try {
            Class<?> spi = bundle.loadClass(spiName);
            Class<?> provider = bundle.loadClass(providerName);
            if (!spi.isAssignableFrom(provider)) {
                LOG.warn("bundle {}: {} does not implement {}; not registered", bundle.getSymbolicName(), providerName, spiName);
                return null;
            }
            BundleWiring wiring = bundle.adapt(BundleWiring.class);
            thread.setContextClassLoader(wiring == null ? provider.getClassLoader() : wiring.getClassLoader());
            Object instance = provider.getConstructor().newInstance();
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(NAMESPACE, spiName);
            if (instance instanceof JroundPlugin plugin) {
                PluginDescriptor d = plugin.descriptor();
                props.put(PROP_ID, d.id());
                props.put(PROP_VERSION, d.version());
                props.put(PROP_KIND, d.kind().label());
            }
            return bundle.getBundleContext().registerService(spiName, instance, props);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("bundle {} {}: cannot register {} as {}: {}", bundle.getSymbolicName(), bundle.getVersion(),
                    providerName, spiName, e.toString());
            return null;
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Provider class names listed in the bundle's own {@code META-INF/services/<spi>} (comments and blanks skipped). */
    static List<String> servicesFile(Bundle bundle, String spiName) {
        List<String> out = new ArrayList<>();
        URL url = bundle.getEntry("META-INF/services/" + spiName);
        if (url == null) {
            return out;
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(url.openStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                int hash = line.indexOf('#');
                String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
                if (!name.isEmpty()) {
                    out.add(name);
                }
            }
        } catch (IOException e) {
            LOG.warn("bundle {}: cannot read {}: {}", bundle.getSymbolicName(), url, e.toString());
        }
        return out;
    }

    @Override
    public void modifiedBundle(Bundle bundle, BundleEvent event, List<ServiceRegistration<?>> registrations) {
    }

    @Override
    public void removedBundle(Bundle bundle, BundleEvent event, List<ServiceRegistration<?>> registrations) {
        for (ServiceRegistration<?> registration : registrations) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework withdrew it when the bundle stopped
            }
        }
    }
}
