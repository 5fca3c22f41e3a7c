package dev.jround.host;

import dev.jround.host.jobs.PluginLeases;
import dev.jround.kernel.registry.DuplicateResolver;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.util.tracker.BundleTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * The OSGi host: an embedded Apache Felix framework whose plugin bundles come from one directory.
 *
 * <p>The host's own class path (SPI, kernel, DJL with libtorch and the tokenizers' natives, and the
 * plugins' third-party libraries) is exported by the system bundle; it is never refreshed, so the
 * native libraries stay bound to one class loader for the life of the process. Everything in the
 * plugins directory is a bundle that can be installed, updated and removed while the host runs;
 * {@link #registry()} follows those changes.
 */
public final class JroundHost implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JroundHost.class);

    /** The system bundle plays the ServiceLoader-mediator registrar the plugin manifests ask for (optionally). */
    static final String REGISTRAR_CAPABILITY =
            "osgi.extender;osgi.extender=\"osgi.serviceloader.registrar\";version:Version=\"1.0.0\"";

    private final Framework framework;
    private final Path storage;
    private final boolean deleteStorage;
    private final BundleTracker<?> registrar;
    private final OsgiPluginRegistry registry;
    private final PluginsDirectoryWatcher watcher;

    private JroundHost(Framework framework, Path storage, boolean deleteStorage, BundleTracker<?> registrar,
                       OsgiPluginRegistry registry, PluginsDirectoryWatcher watcher) {
        this.framework = framework;
        this.storage = storage;
        this.deleteStorage = deleteStorage;
        this.registrar = registrar;
        this.registry = registry;
        this.watcher = watcher;
    }

    /**
     * Starts a framework, installs and starts every jar in {@code pluginsDir} and keeps watching it.
     *
     * @param pluginsDir   the watched directory of plugin bundles
     * @param storage      Felix's bundle cache; {@code null} for a temporary one deleted on {@link #close()}
     * @param pollInterval how often the directory is looked at
     */
    public static JroundHost start(Path pluginsDir, Path storage, Duration pollInterval) {
        return start(pluginsDir, storage, pollInterval, new PluginLeases());
    }

    /** As {@link #start(Path, Path, Duration)}; a jar whose bundle {@code leases} holds is changed only once released. */
    public static JroundHost start(Path pluginsDir, Path storage, Duration pollInterval, PluginLeases leases) {
        boolean temporary = storage == null;
        try {
            Path cache = temporary ? Files.createTempDirectory("jround-felix-") : storage;
            Map<String, String> config = new HashMap<>();
            config.put(Constants.FRAMEWORK_STORAGE, cache.toString());
            config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
            config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, SystemPackages.ofClassPath());
            config.put(Constants.FRAMEWORK_SYSTEMCAPABILITIES_EXTRA, REGISTRAR_CAPABILITY);
            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, JroundHost.class.getClassLoader())
                    .findFirst().orElseThrow(() -> new IllegalStateException(
                            "no OSGi framework on the class path (org.apache.felix.framework)"));
            Framework framework = factory.newFramework(config);
            framework.init();
            BundleTracker<?> registrar = new BundleTracker<>(framework.getBundleContext(), Bundle.ACTIVE,
                    new ServiceLoaderRegistrar());
            registrar.open();
            OsgiPluginRegistry registry = new OsgiPluginRegistry(framework.getBundleContext(), DuplicateResolver.systemPins());
            framework.start();
            PluginsDirectoryWatcher watcher = new PluginsDirectoryWatcher(pluginsDir.toAbsolutePath().normalize(),
                    framework.getBundleContext(), framework.adapt(FrameworkWiring.class), leases);
            watcher.start(pollInterval);
            LOG.info("OSGi host started on {} ({} bundles)", pluginsDir, framework.getBundleContext().getBundles().length - 1);
            return new JroundHost(framework, cache, temporary, registrar, registry, watcher);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the bundle cache", e);
        } catch (BundleException e) {
            throw new IllegalStateException("cannot start the OSGi framework: " + e.getMessage(), e);
        }
    }

    /** Plugins of the installed bundles, live. */
    public OsgiPluginRegistry registry() {
        return registry;
    }

    public Framework framework() {
        return framework;
    }

    /** Looks at the plugins directory now instead of waiting for the next poll (changes still need to settle). */
    public void rescan() {
        watcher.scan(false);
    }

    /** The plugin bundles (everything but the system bundle). */
    public List<Bundle> bundles() {
        return Stream.of(framework.getBundleContext().getBundles()).filter(b -> b.getBundleId() != 0).toList();
    }

    @Override
    public void close() {
        watcher.close();
        registry.close();
        registrar.close();
        try {
            framework.stop();
            FrameworkEvent event = framework.waitForStop(30_000);
            if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                LOG.warn("the OSGi framework did not stop within 30 s");
            }
        } catch (BundleException e) {
            LOG.warn("stopping the OSGi framework: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (deleteStorage) {
            deleteRecursively(storage);
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("cannot delete the bundle cache {}: {}", root, e.toString());
        }
    }
}
