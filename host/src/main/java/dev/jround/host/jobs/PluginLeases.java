package dev.jround.host.jobs;

import java.util.HashMap;
import java.util.Map;

/**
 * Which plugin bundles running jobs hold. The plugins-directory watcher updates or uninstalls a bundle only while no
 * job holds it; a changed or removed jar waits (docs/host.md, "Swap rules"). Keys are bundle ids.
 */
public final class PluginLeases {

    private final Map<Long, Integer> holders = new HashMap<>();

    /** A job's hold on bundles; {@link Lease#close()} releases it. */
    public synchronized Lease acquire(Iterable<Long> bundleIds) {
        Map<Long, Integer> taken = new HashMap<>();
        for (Long id : bundleIds) {
            if (id != null && taken.putIfAbsent(id, 1) == null) {
                holders.merge(id, 1, Integer::sum);
            }
        }
        return new Lease(taken.keySet());
    }

    public synchronized boolean held(long bundleId) {
        return holders.getOrDefault(bundleId, 0) > 0;
    }

    private synchronized void release(Iterable<Long> ids) {
        for (Long id : ids) {
            holders.computeIfPresent(id, (k, n) -> n > 1 ? n - 1 : null);
        }
    }

    /** Held bundles of one job. */
    public final class Lease implements AutoCloseable {
        private final java.util.Set<Long> ids;
        private boolean released;

        private Lease(java.util.Set<Long> ids) {
            this.ids = new java.util.HashSet<>(ids);
        }

        /** Lets go of every held bundle not in {@code keep} (the job no longer calls into them). */
        public void retainOnly(java.util.Set<Long> keep) {
            synchronized (PluginLeases.this) {
                if (released) {
                    return;
                }
                java.util.Set<Long> drop = new java.util.HashSet<>(ids);
                drop.removeAll(keep);
                release(drop);
                ids.removeAll(drop);
            }
        }

        /** The bundles still held. */
        public java.util.Set<Long> held() {
            synchronized (PluginLeases.this) {
                return released ? java.util.Set.of() : java.util.Set.copyOf(ids);
            }
        }

        @Override
        public void close() {
            synchronized (PluginLeases.this) {
                if (!released) {
                    released = true;
                    release(ids);
                }
            }
        }
    }
}
