package dev.jround.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class ManifestClausesTest {

    @Test
    void splitsAtTopLevelCommasAndReadsQuotedAttributes() {
        String header = "a.b;version=\"1.2.0\";uses:=\"x.y,z\",c.d;e.f;version=2.0,g";
        List<String> clauses = ManifestClauses.split(header);
        assertEquals(3, clauses.size());
        assertEquals(List.of("a.b"), ManifestClauses.names(clauses.get(0)));
        assertEquals("1.2.0", ManifestClauses.attribute(clauses.get(0), "version"));
        assertNull(ManifestClauses.attribute(clauses.get(0), "uses"), "directives are not attributes");
        assertEquals(List.of("c.d", "e.f"), ManifestClauses.names(clauses.get(1)));
        assertEquals("2.0", ManifestClauses.attribute(clauses.get(1), "version"));
        assertNull(ManifestClauses.attribute(clauses.get(2), "version"));
    }

    @Test
    void bundleJarsExportTheirDeclaredPackagesAndPlainJarsEverything(@TempDir Path dir) throws IOException {
        Path bundle = jar(dir.resolve("bundle.jar"), Map.of("Bundle-SymbolicName", "b", "Export-Package",
                "p.api;version=\"0.3.0\";uses:=\"q\""), "p/api/A.class", "p/impl/B.class");
        Path plain = jar(dir.resolve("plain.jar"), Map.of("Implementation-Version", "2.7.1-0.35.1",
                "Specification-Version", "0.35.1"), "q/C.class", "q/r/D.class", "META-INF/versions/11/q/E.class",
                "org/osgi/framework/F.class", "java/lang/G.class");
        Map<String, String> packages = SystemPackages.scan(List.of(bundle, plain));
        assertEquals(Map.of("p.api", "0.3.0", "q", "0.35.1", "q.r", "0.35.1"), packages);
        assertFalse(packages.containsKey("p.impl"), "private packages of bundles stay private");
        assertEquals("p.api;version=\"0.3.0\"", SystemPackages.render(Map.of("p.api", "0.3.0")));
    }

    @Test
    void manifestClassPathIsFollowed(@TempDir Path dir) throws IOException {
        Path lib = jar(dir.resolve("lib.jar"), Map.of(), "l/L.class");
        Path booter = jar(dir.resolve("booter.jar"), Map.of("Class-Path", lib.toUri().toString()));
        assertEquals(List.of(booter, lib), SystemPackages.classPathEntries(booter.toString()));
    }

    static Path jar(Path file, Map<String, String> headers, String... entries) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, mf)) {
            for (String e : entries) {
                jar.putNextEntry(new JarEntry(e));
                jar.closeEntry();
            }
        }
        return file;
    }
}
