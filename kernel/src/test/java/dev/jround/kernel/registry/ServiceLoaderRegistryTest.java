package dev.jround.kernel.registry;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flat class-path discovery through a loader that sees one {@code META-INF/services} file written by the test. */
class ServiceLoaderRegistryTest {

    static URLClassLoader loaderWith(Path dir, String spi, String... providers) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(spi), "# test providers\n" + String.join("\n", providers) + "\n");
        return new URLClassLoader(new URL[]{dir.toUri().toURL()}, ServiceLoaderRegistryTest.class.getClassLoader());
    }

    @Test
    void findsEveryProviderAndKeepsTheHighestVersionPerId(@TempDir Path dir) throws IOException {
        try (URLClassLoader loader = loaderWith(dir, SchemePreset.class.getName(),
                TestPresets.Alpha100.class.getName(), TestPresets.Beta.class.getName(),
                TestPresets.Alpha120.class.getName(), TestPresets.Alpha110.class.getName())) {
            ServiceLoaderRegistry registry = new ServiceLoaderRegistry(loader);
            List<SchemePreset> all = registry.all(SchemePreset.class);
            assertEquals(List.of("Alpha 1.2.0", "beta 0.3.0"),
                    all.stream().map(p -> p.descriptor().id() + " " + p.descriptor().version()).toList());
            assertEquals("1.2.0", registry.find(SchemePreset.class, "ALPHA").orElseThrow().descriptor().version());
            assertTrue(registry.find(SchemePreset.class, "gamma").isEmpty());
            assertTrue(registry.all(Exporter.class).stream().noneMatch(e -> e instanceof TestPresets));
        }
    }

    @Test
    void entriesListShadowedDuplicatesWithTheirSource(@TempDir Path dir) throws IOException {
        try (URLClassLoader loader = loaderWith(dir, SchemePreset.class.getName(),
                TestPresets.Alpha100.class.getName(), TestPresets.Alpha120.class.getName())) {
            List<ServiceLoaderRegistry.Entry> entries = new ServiceLoaderRegistry(loader).entries().stream()
                    .filter(e -> e.spi() == SchemePreset.class && e.descriptor().id().equalsIgnoreCase("alpha"))
                    .toList();
            assertEquals(2, entries.size());
            assertTrue(entries.stream().anyMatch(e -> e.descriptor().version().equals("1.2.0") && e.active()));
            assertTrue(entries.stream().anyMatch(e -> e.descriptor().version().equals("1.0.0") && !e.active()));
            // test classes come from the test-classes directory; a plugin jar would show its file name
            entries.forEach(e -> assertTrue(e.source().startsWith("test-classes"), e.source()));
        }
    }

    @Test
    void aProviderThatFailsToLoadIsSkipped(@TempDir Path dir) throws IOException {
        try (URLClassLoader loader = loaderWith(dir, SchemePreset.class.getName(),
                TestPresets.Broken.class.getName(), TestPresets.Beta.class.getName(), "dev.jround.NoSuchPlugin")) {
            List<SchemePreset> all = new ServiceLoaderRegistry(loader).all(SchemePreset.class);
            assertEquals(List.of("beta"), all.stream().map(p -> p.descriptor().id()).toList());
        }
    }

    @Test
    void pinnedVersionFromASystemPropertyWins(@TempDir Path dir) throws IOException {
        System.setProperty("jround.pin.alpha", "1.0.0");
        try (URLClassLoader loader = loaderWith(dir, SchemePreset.class.getName(),
                TestPresets.Alpha120.class.getName(), TestPresets.Alpha100.class.getName())) {
            ServiceLoaderRegistry registry = new ServiceLoaderRegistry(loader);
            assertEquals("1.0.0", registry.find(SchemePreset.class, "alpha").orElseThrow().descriptor().version());
        } finally {
            System.clearProperty("jround.pin.alpha");
        }
    }

    @Test
    void everySpiIsDiscoverable() {
        assertEquals(Spis.ALL.size(), Set.copyOf(Spis.ALL).size(), "each extension point once");
        Spis.ALL.forEach(spi -> assertTrue(spi.isInterface() && JroundPlugin.class.isAssignableFrom(spi), spi.getName()));
        ServiceLoaderRegistry registry = new ServiceLoaderRegistry();
        Spis.ALL.forEach(spi -> registry.all(spi)); // no provider on the kernel's test path may break a lookup
    }
}
