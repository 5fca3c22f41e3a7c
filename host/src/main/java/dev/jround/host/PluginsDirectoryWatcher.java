package dev.jround.host;

import dev.jround.host.jobs.PluginLeases;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the framework's plugin bundles in step with the {@code *.jar} files of one directory, by
 * polling (robust for files replaced by {@code cp}, {@code mv} or editors, on every file system):
 * a new jar is installed and started, a jar whose size or time stamp changed is updated, a removed jar
 * is uninstalled; after updates and removals the affected bundles are refreshed so that their old class
 * loaders are released. A change is acted on once the file has looked the same for one poll (so a jar
 * still being copied is not read half-written); the first scan acts at once.
 */
final class PluginsDirectoryWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PluginsDirectoryWatcher.class);

    private final Path directory;
    private final BundleContext context;
    private final FrameworkWiring wiring;
    private final Map<Path, Stamp> lastSeen = new HashMap<>();
    private final Map<Path, Stamp> applied = new HashMap<>();
    private final Map<Path, Bundle> bundles = new HashMap<>();
    private final PluginLeases leases;
    private final Set<Path> waitingLogged = new HashSet<>();
    private ScheduledExecutorService poller;

    /** @param leases bundles running jobs hold: a change to their jar waits until they are released */
    PluginsDirectoryWatcher(Path directory, BundleContext context, FrameworkWiring wiring, PluginLeases leases) {
        this.directory = directory;
        this.context = context;
        this.wiring = wiring;
        this.leases = leases;
    }

    /** Applies everything in the directory now, then keeps polling every {@code interval}. */
    synchronized void start(Duration interval) {
        scan(true);
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jround-plugins-watcher");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(() -> {
            try {
                scan(false);
            } catch (RuntimeException e) {
                LOG.error("scanning {} failed: {}", directory, e.toString(), e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One pass; with {@code immediate}, changes are applied without waiting for the file to settle. */
    synchronized void scan(boolean immediate) {
        Map<Path, Stamp> now = listJars();
        List<Path> toInstall = new ArrayList<>();
        List<Path> toUpdate = new ArrayList<>();
        List<Path> toRemove = new ArrayList<>();
        for (var e : now.entrySet()) {
            Path file = e.getKey();
            Stamp stamp = e.getValue();
            boolean settled = immediate || stamp.equals(lastSeen.get(file));
            if (!settled || stamp.equals(applied.get(file))) {
                continue;
            }
            if (bundles.containsKey(file)) {
                if (!waitsForJobs(file, "update")) {
                    toUpdate.add(file);
                }
            } else {
                toInstall.add(file);
            }
        }
        for (Path file : new ArrayList<>(bundles.keySet())) {
            if (!now.containsKey(file) && !waitsForJobs(file, "removal")) {
                toRemove.add(file);
            }
        }
        for (Path file : new ArrayList<>(applied.keySet())) {
            if (!now.containsKey(file) && !bundles.containsKey(file)) {
                applied.remove(file); // a jar that never installed is forgotten when it goes
            }
        }
        lastSeen.clear();
        lastSeen.putAll(now);
        if (toInstall.isEmpty() && toUpdate.isEmpty() && toRemove.isEmpty()) {
            return;
        }

        List<Bundle> refresh = new ArrayList<>();
        for (Path file : toRemove) {
            Bundle b = bundles.remove(file);
            applied.remove(file);
            try {
                b.uninstall();
                refresh.add(b);
                LOG.info("uninstalled {} {} ({} was removed)", b.getSymbolicName(), b.getVersion(), file.getFileName());
            } catch (BundleException | IllegalStateException ex) {
                LOG.error("cannot uninstall {}: {}", file.getFileName(), ex.getMessage());
            }
        }
        for (Path file : toUpdate) {
            Bundle b = bundles.get(file);
            applied.put(file, now.get(file));
            try (InputStream in = Files.newInputStream(file)) {
                b.update(in);
                refresh.add(b);
                LOG.info("updated {} to {} from {}", b.getSymbolicName(), b.getVersion(), file.getFileName());
            } catch (IOException | BundleException | IllegalStateException ex) {
                LOG.error("cannot update {} from {}: {}", b.getSymbolicName(), file.getFileName(), ex.getMessage());
            }
        }
        List<Bundle> installed = new ArrayList<>();
        for (Path file : toInstall) {
            applied.put(file, now.get(file));
            try (InputStream in = Files.newInputStream(file)) {
                Bundle b = context.installBundle(file.toUri().toString(), in);
                bundles.put(file, b);
                installed.add(b);
                LOG.info("installed {} {} from {}", b.getSymbolicName(), b.getVersion(), file.getFileName());
            } catch (IOException | BundleException | IllegalStateException ex) {
                LOG.error("cannot install {}: {}", file.getFileName(), ex.getMessage());
            }
        }
        if (!refresh.isEmpty()) {
            refreshAndWait(refresh);
        }
        for (Bundle b : installed) {
            startQuietly(b);
        }
        for (Bundle b : refresh) {
            if (b.getState() != Bundle.UNINSTALLED) {
                startQuietly(b);
            }
        }
    }

    /** True while a running job holds the bundle of {@code file}; said once per wait at the default level. */
    private boolean waitsForJobs(Path file, String change) {
        Bundle b = bundles.get(file);
        if (b == null || !leases.held(b.getBundleId())) {
            waitingLogged.remove(file);
            return false;
        }
        if (waitingLogged.add(file)) {
            LOG.info("{} of {} ({} {}) waits: a running job uses it", change, file.getFileName(), b.getSymbolicName(), b.getVersion());
        }
        return true;
    }

    private void startQuietly(Bundle b) {
        if (b.getHeaders().get("Fragment-Host") != null) {
            return;
        }
        try {
            b.start();
        } catch (BundleException | IllegalStateException ex) {
            LOG.error("cannot start {} {}: {}", b.getSymbolicName(), b.getVersion(), ex.getMessage());
        }
    }

    /** Refreshes the bundles (and their dependants) so old revisions and their class loaders are dropped. */
    private void refreshAndWait(List<Bundle> refresh) {
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(refresh, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                done.countDown();
            }
        });
        try {
            if (!done.await(60, TimeUnit.SECONDS)) {
                LOG.warn("refresh of {} bundles did not finish within 60 s", refresh.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Map<Path, Stamp> listJars() {
        Map<Path, Stamp> out = new HashMap<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.jar")) {
            for (Path f : files) {
                if (Files.isRegularFile(f)) {
                    out.put(f.toAbsolutePath().normalize(),
                            new Stamp(Files.size(f), Files.getLastModifiedTime(f).toMillis()));
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", directory, e.toString());
        }
        return out;
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
            poller = null;
        }
    }

    private record Stamp(long size, long modifiedMillis) {
    }
}
