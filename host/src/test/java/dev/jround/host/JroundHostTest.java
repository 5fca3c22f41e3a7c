package dev.jround.host;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleReference;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real Felix framework with the plugin bundles this build produced: the PyTorch backend bundle
 * computes through libtorch, the example plugin is replaced by a newer version and removed while the
 * host runs, and the replaced bundle's class loader is collected.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JroundHostTest {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final Path BUNDLES = Path.of(System.getProperty("jround.test.bundles", "target/test-bundles"));
    static final LayerSpec LAYER = new LayerSpec("model.layers.0.mlp.down_proj", 4, 2,
            QuantScheme.intWeightOnly(4, 4, true), 0, false, "default");

    @TempDir
    static Path work;
    static Path plugins;
    static JroundHost host;

    @BeforeAll
    static void startHost() throws IOException {
        plugins = Files.createDirectories(work.resolve("plugins"));
        Files.copy(BUNDLES.resolve("jround-plugin-backend-pytorch.jar"), plugins.resolve("backend-pytorch.jar"));
        Files.copy(BUNDLES.resolve("jround-plugin-example-plugin.jar"), plugins.resolve("example-plugin.jar"));
        host = JroundHost.start(plugins, work.resolve("felix-cache"), Duration.ofMillis(100));
    }

    @AfterAll
    static void stopHost() {
        if (host != null) {
            host.close();
        }
    }

    @Test
    @Order(1)
    void pluginBundlesAreInstalledAndTheirServicesTracked() {
        PluginRegistry registry = host.registry();
        assertEquals(2, host.bundles().size());
        host.bundles().forEach(b -> assertEquals(Bundle.ACTIVE, b.getState(), b.getSymbolicName()));
        Exporter exporter = registry.find(Exporter.class, "example_npz").orElseThrow();
        assertEquals("1.0.0", exporter.descriptor().version());
        assertTrue(exporter.getClass().getClassLoader() instanceof BundleReference, "loaded by a bundle class loader");
        List<PluginRegistry.Entry> entries = registry.entries();
        assertTrue(entries.stream().anyMatch(e -> e.descriptor().id().equals("pytorch-cpu")
                && e.source().startsWith("backend-pytorch.jar") && e.active()), entries.toString());
    }

    @Test
    @Order(2)
    void pytorchBackendBundleComputesOnLibtorch() {
        DeviceBackend backend = host.registry().find(DeviceBackend.class, "pytorch-cpu").orElseThrow();
        assertTrue(backend.getClass().getClassLoader() instanceof BundleReference);
        assertTrue(backend.isAvailable());
        assertMatMul(backend);
    }

    @Test
    @Order(3)
    void updatingTheBackendBundleKeepsTheLoadedNatives() throws IOException {
        DeviceBackend before = host.registry().find(DeviceBackend.class, "pytorch-cpu").orElseThrow();
        replacePlugin(BUNDLES.resolve("jround-plugin-backend-pytorch.jar"), "backend-pytorch.jar", "1.0.1");
        awaitTrue(() -> version(DeviceBackend.class, "pytorch-cpu").equals(Optional.of("1.0.1")), "backend 1.0.1 active");
        DeviceBackend after = host.registry().find(DeviceBackend.class, "pytorch-cpu").orElseThrow();
        assertNotSame(before.getClass(), after.getClass(), "a new bundle revision, a new class");
        assertMatMul(after); // no "already loaded in another classloader": libtorch stayed with the platform loader
    }

    @Test
    @Order(4)
    void exporterPluginCallsThroughTheRegistry() throws IOException {
        Path out = work.resolve("export-1.0.0");
        exportOneLayer(host.registry().find(Exporter.class, "example_npz").orElseThrow(), out);
        assertTrue(Files.size(out.resolve("model.npz")) > 0);
        assertTrue(Files.readString(out.resolve("example_npz.json")).contains("jround example plugin 1.0.0"));
    }

    @Test
    @Order(5)
    void newerVersionReplacesTheOldOneWithoutRestartAndTheOldLoaderIsCollected() throws IOException {
        WeakReference<ClassLoader> oldLoader = exporterLoader();
        long frameworkStarted = host.framework().getBundleContext().getBundle(0).getLastModified();

        replacePlugin(BUNDLES.resolve("jround-plugin-example-plugin.jar"), "example-plugin.jar", "1.1.0");
        awaitTrue(() -> version(Exporter.class, "example_npz").equals(Optional.of("1.1.0")), "example_npz 1.1.0 active");

        Path out = work.resolve("export-1.1.0");
        exportOneLayer(host.registry().find(Exporter.class, "example_npz").orElseThrow(), out);
        assertTrue(Files.readString(out.resolve("example_npz.json")).contains("jround example plugin 1.1.0"),
                "the new bundle's code runs");
        assertEquals(1, host.registry().entries().stream().filter(e -> e.descriptor().id().equals("example_npz")).count());
        assertEquals(frameworkStarted, host.framework().getBundleContext().getBundle(0).getLastModified(), "no restart");
        assertCollected(oldLoader);
    }

    @Test
    @Order(6)
    void sideBySideVersionsResolveToTheHighestAndShadowTheOther() throws IOException {
        replacePlugin(BUNDLES.resolve("jround-plugin-example-plugin.jar"), "example-plugin-old.jar", "1.0.0");
        awaitTrue(() -> host.registry().entries().stream().filter(e -> e.descriptor().id().equals("example_npz")).count() == 2,
                "both example_npz bundles registered");
        assertEquals(Optional.of("1.1.0"), version(Exporter.class, "example_npz"), "highest version wins");
        List<PluginRegistry.Entry> shadowed = host.registry().entries().stream()
                .filter(e -> e.descriptor().id().equals("example_npz") && !e.active()).toList();
        assertEquals(1, shadowed.size());
        assertEquals("1.0.0", shadowed.get(0).descriptor().version());
        try (OsgiPluginRegistry pinned = new OsgiPluginRegistry(host.framework().getBundleContext(),
                Map.of("example_npz", "1.0.0"))) {
            assertEquals("1.0.0", pinned.find(Exporter.class, "example_npz").orElseThrow().descriptor().version());
        }
        Files.delete(plugins.resolve("example-plugin-old.jar"));
        awaitTrue(() -> host.registry().entries().stream().filter(e -> e.descriptor().id().equals("example_npz")).count() == 1,
                "the 1.0.0 copy is gone again");
    }

    @Test
    @Order(7)
    void deletingTheJarUninstallsThePlugin() throws IOException {
        WeakReference<ClassLoader> loader = exporterLoader();
        Files.delete(plugins.resolve("example-plugin.jar"));
        awaitTrue(() -> host.registry().find(Exporter.class, "example_npz").isEmpty(), "example_npz gone");
        assertTrue(host.registry().entries().stream().noneMatch(e -> e.descriptor().id().equals("example_npz")));
        assertTrue(host.bundles().stream().noneMatch(b -> b.getSymbolicName().contains("example")), "bundle uninstalled");
        assertCollected(loader);
        assertTrue(host.registry().find(DeviceBackend.class, "pytorch-cpu").isPresent(), "other plugins unaffected");
    }

    @Test
    @Order(8)
    void aPluginBuiltForAnotherSpiMajorIsRefusedAndTheHostCarriesOn() throws IOException {
        // what bnd would generate for a plugin compiled against SPI 2.x
        replacePlugin(BUNDLES.resolve("jround-plugin-example-plugin.jar"), "example-plugin-spi1.jar", "3.0.0",
                a -> a.putValue("Import-Package", a.getValue("Import-Package").replace("[1.0,2)", "[2.0,3)")));
        awaitTrue(() -> host.bundles().stream().anyMatch(b -> b.getVersion().toString().equals("3.0.0")),
                "the jar is installed");
        Bundle refused = host.bundles().stream().filter(b -> b.getVersion().toString().equals("3.0.0")).findFirst().orElseThrow();
        assertEquals(Bundle.INSTALLED, refused.getState(), "unresolved: the system bundle exports dev.jround.spi 1.0.0");
        assertTrue(host.registry().find(Exporter.class, "example_npz").isEmpty());
        assertMatMul(host.registry().find(DeviceBackend.class, "pytorch-cpu").orElseThrow());
        Files.delete(plugins.resolve("example-plugin-spi1.jar"));
        awaitTrue(() -> refused.getState() == Bundle.UNINSTALLED, "the refused bundle is uninstalled with its jar");
    }

    @Test
    @Order(9)
    void systemBundleExportsTheSpiWithItsVersionAndTheDjlPlatform() {
        Map<String, String> packages = SystemPackages.scan(
                SystemPackages.classPathEntries(System.getProperty("java.class.path")));
        assertEquals("1.0.0", packages.get("dev.jround.spi"));
        assertEquals("1.0.0", packages.get("dev.jround.spi.device"));
        assertTrue(packages.containsKey("ai.djl.ndarray"));
        assertTrue(packages.containsKey("ai.djl.pytorch.engine"));
        assertFalse(packages.containsKey("org.osgi.framework"), "the framework exports its own API");
    }

    // ---------------------------------------------------------------------------------------------

    static void assertMatMul(DeviceBackend backend) {
        try (NDManager manager = backend.newManager()) {
            NDArray a = manager.create(new float[]{1, 2, 3, 4, 5, 6}, new Shape(2, 3));
            NDArray b = manager.create(new float[]{7, 8, 9, 10, 11, 12}, new Shape(3, 2));
            assertArrayEquals(new float[]{58, 64, 139, 154}, a.matMul(b).toFloatArray());
            assertEquals("PyTorch", manager.getEngine().getEngineName());
            assertSame(NDManager.class.getClassLoader(), manager.getEngine().getClass().getClassLoader(),
                    "the engine (and its natives) belong to the host's platform class loader");
        }
    }

    static void exportOneLayer(Exporter exporter, Path out) {
        assertTrue(exporter.refusal("example_npz", LAYER).isEmpty());
        ExportContext ctx = ExportContext.builder().format("example_npz").outputDir(out).layers(List.of(LAYER))
                .blockPrefixes(List.of("model.layers")).build();
        try (ExportSession session = exporter.open(ctx)) {
            session.addQuantized(QuantizedLayer.ofGrid(LAYER, 4, new int[]{1, 2, 3, 4, 5, 6, 7, 8},
                    new float[]{0.1f, 0.2f}, new int[]{8, 8}, new float[8], null));
            session.finish();
        }
    }

    /** A weak handle on the current example plugin's class loader; no strong reference survives this frame. */
    static WeakReference<ClassLoader> exporterLoader() {
        return new WeakReference<>(host.registry().find(Exporter.class, "example_npz").orElseThrow()
                .getClass().getClassLoader());
    }

    static void assertCollected(WeakReference<ClassLoader> loader) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (loader.get() != null) {
            if (System.nanoTime() > deadline) {
                fail("the replaced bundle's class loader was not collected within " + TIMEOUT.toSeconds() + " s");
            }
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static boolean settled() {
        host.rescan();
        return true;
    }

    static Optional<String> version(Class<? extends dev.jround.spi.JroundPlugin> type, String id) {
        return host.registry().find(type, id).map(p -> p.descriptor().version());
    }

    /**
     * Waits until {@code condition} holds once the watcher is idle: a scan that updated a bundle registers the new
     * revision's services before it refreshes the bundles (a moment without them), and {@code rescan} blocks until
     * such a scan, refresh included, is over.
     */
    static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!(condition.getAsBoolean() && settled() && condition.getAsBoolean())) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what + "; registry: " + host.registry().entries());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Drops {@code source} re-versioned as {@code version} into the plugins directory under {@code name}, as a
     * user copying a newer build over the old file would: Bundle-Version and Implementation-Version change,
     * the code is the same build's.
     */
    static void replacePlugin(Path source, String name, String version) throws IOException {
        replacePlugin(source, name, version, attributes -> { });
    }

    static void replacePlugin(Path source, String name, String version, Consumer<Attributes> edit) throws IOException {
        Path staged = work.resolve(name + "." + version + ".tmp");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(source))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            manifest.getMainAttributes().putValue("Implementation-Version", version);
            edit.accept(manifest.getMainAttributes());
            try (OutputStream file = Files.newOutputStream(staged); JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        Path target = plugins.resolve(name);
        Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // make the change visible even on file systems with coarse time stamps
        Files.setLastModifiedTime(target, FileTime.fromMillis(System.currentTimeMillis() + 2000));
    }

}
