package dev.jround.host;

import dev.jround.host.jobs.PluginLeases;
import dev.jround.host.jobs.RegistrySnapshot;
import dev.jround.spi.export.Exporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The swap rules of docs/host.md on a real framework: while a job holds the example plugin's bundle, replacing or
 * deleting its jar waits and the job's snapshot keeps working with the version it started with; a new jar installs at
 * once for new jobs; once the job lets go, the waiting change is applied.
 */
class PluginLeasesTest {

    static final Path SOURCE = JroundHostTest.BUNDLES.resolve("jround-plugin-example-plugin.jar");

    @TempDir
    Path work;

    @Test
    void aHeldBundleIsChangedOnlyAfterTheJobLetsGo() throws IOException {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Files.copy(SOURCE, plugins.resolve("example-plugin.jar"));
        PluginLeases leases = new PluginLeases();
        try (JroundHost host = JroundHost.start(plugins, work.resolve("cache"), Duration.ofMillis(100), leases)) {
            RegistrySnapshot job = RegistrySnapshot.of(host.registry());
            Exporter held = job.find(Exporter.class, "example_npz").orElseThrow();
            assertEquals("1.0.0", job.versions().get("example_npz"));
            PluginLeases.Lease lease = leases.acquire(List.of(host.registry().bundleOf(held).getBundleId()));

            writeVersion(plugins.resolve("example-plugin.jar"), "1.0.5");
            for (int i = 0; i < 5; i++) {
                host.rescan();
                sleep(120);
            }
            assertEquals(Optional.of("1.0.0"), version(host), "the update waits for the job");
            JroundHostTest.exportOneLayer(held, work.resolve("during")); // the job's plugin still works
            assertTrue(Files.readString(work.resolve("during/example_npz.json")).contains("1.0.0"));

            writeVersion(plugins.resolve("example-plugin-new.jar"), "1.2.0");
            await(host, () -> version(host).equals(Optional.of("1.2.0")), "a new jar installs at once for new jobs");
            assertEquals("1.0.0", job.find(Exporter.class, "example_npz").orElseThrow().descriptor().version(),
                    "the running job keeps the version it started with");

            Files.delete(plugins.resolve("example-plugin-new.jar"));
            await(host, () -> version(host).equals(Optional.of("1.0.0")), "the unheld new jar is removed at once");

            lease.close();
            await(host, () -> version(host).equals(Optional.of("1.0.5")), "the waiting update applies once released");
            RegistrySnapshot next = RegistrySnapshot.of(host.registry());
            JroundHostTest.exportOneLayer(next.find(Exporter.class, "example_npz").orElseThrow(), work.resolve("after"));
            assertTrue(Files.readString(work.resolve("after/example_npz.json")).contains("1.0.5"));
        }
    }

    static Optional<String> version(JroundHost host) {
        return host.registry().find(Exporter.class, "example_npz").map(p -> p.descriptor().version());
    }

    static void await(JroundHost host, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(condition.getAsBoolean() && rescan(host) && condition.getAsBoolean())) {
            if (System.nanoTime() > deadline) {
                fail("timed out: " + what + "; registry: " + host.registry().entries());
            }
            sleep(50);
        }
    }

    private static boolean rescan(JroundHost host) {
        host.rescan();
        return true;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The example plugin re-versioned (Bundle-Version, Implementation-Version) at {@code target}, moved in atomically. */
    static void writeVersion(Path target, String version) throws IOException {
        Path staged = target.resolveSibling(target.getFileName() + ".tmp");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(SOURCE))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            manifest.getMainAttributes().putValue("Implementation-Version", version);
            try (OutputStream file = Files.newOutputStream(staged); JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(target, FileTime.fromMillis(System.currentTimeMillis() + 2000));
    }
}
