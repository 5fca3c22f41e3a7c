package dev.jround.host;

import org.osgi.framework.Version;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Computes {@code org.osgi.framework.system.packages.extra}: every package on the host's class path,
 * so that the system bundle exports the SPI, the DJL platform (with its natives already bound to the
 * application class loader) and their libraries to plugin bundles. Jars that are bundles contribute
 * exactly their {@code Export-Package} clauses with the versions they declare (the SPI exports
 * {@code dev.jround.spi.*;version=1.0.0}); plain jars contribute each package they contain, versioned
 * by the jar's manifest version when that is a valid OSGi version.
 */
final class SystemPackages {

    private SystemPackages() {
    }

    /** The clause list for the class path of this JVM ({@code java.class.path}, following manifest Class-Path). */
    static String ofClassPath() {
        return render(scan(classPathEntries(System.getProperty("java.class.path", ""))));
    }

    static String render(Map<String, String> packages) {
        List<String> clauses = new ArrayList<>();
        packages.forEach((pkg, version) -> clauses.add(version == null ? pkg : pkg + ";version=\"" + version + "\""));
        return String.join(",", clauses);
    }

    /** Package name to version (null when unversioned), first occurrence wins, framework packages excluded. */
    static Map<String, String> scan(List<Path> entries) {
        Map<String, String> packages = new LinkedHashMap<>();
        for (Path entry : entries) {
            try {
                if (Files.isDirectory(entry)) {
                    addAll(packages, manifestOf(entry), packagesInDirectory(entry));
                } else if (Files.isRegularFile(entry)) {
                    try (JarFile jar = new JarFile(entry.toFile())) {
                        if (jar.getEntry("org/apache/felix/framework/Felix.class") != null) {
                            continue; // the framework exports its own packages
                        }
                        addAll(packages, jar.getManifest(), packagesInJar(jar));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read class path entry " + entry, e);
            }
        }
        return packages;
    }

    private static void addAll(Map<String, String> packages, Manifest manifest, Set<String> contained) {
        String exports = manifest == null ? null : manifest.getMainAttributes().getValue("Export-Package");
        if (exports != null && manifest.getMainAttributes().getValue("Bundle-SymbolicName") != null) {
            for (String clause : ManifestClauses.split(exports)) {
                String version = ManifestClauses.attribute(clause, "version");
                for (String pkg : ManifestClauses.names(clause)) {
                    if (exportable(pkg)) {
                        packages.putIfAbsent(pkg, version);
                    }
                }
            }
            return;
        }
        String version = manifest == null ? null : jarVersion(manifest.getMainAttributes());
        for (String pkg : contained) {
            if (exportable(pkg)) {
                packages.putIfAbsent(pkg, version);
            }
        }
    }

    private static boolean exportable(String pkg) {
        return !pkg.isEmpty() && !pkg.startsWith("java.") && !pkg.startsWith("org.osgi.")
                && !pkg.startsWith("org.apache.felix.framework");
    }

    private static String jarVersion(Attributes main) {
        for (String key : new String[]{"Bundle-Version", "Implementation-Version", "Specification-Version"}) {
            String v = main.getValue(key);
            if (v != null) {
                try {
                    return Version.parseVersion(v.trim()).toString();
                } catch (IllegalArgumentException notOsgi) {
                    // e.g. "2.7.1-0.35.1": try the next header, else export unversioned
                }
            }
        }
        return null;
    }

    private static Set<String> packagesInJar(JarFile jar) {
        Set<String> out = new LinkedHashSet<>();
        jar.stream().map(e -> e.getName())
                .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/") && n.indexOf('/') > 0)
                .forEach(n -> out.add(n.substring(0, n.lastIndexOf('/')).replace('/', '.')));
        return out;
    }

    private static Set<String> packagesInDirectory(Path dir) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(f -> f.toString().endsWith(".class")).forEach(f -> {
                Path rel = dir.relativize(f.getParent());
                if (rel.getNameCount() > 0 && !rel.startsWith("META-INF")) {
                    out.add(rel.toString().replace(File.separatorChar, '.'));
                }
            });
        }
        return out;
    }

    private static Manifest manifestOf(Path dir) throws IOException {
        Path mf = dir.resolve("META-INF/MANIFEST.MF");
        if (!Files.isRegularFile(mf)) {
            return null;
        }
        try (InputStream in = Files.newInputStream(mf)) {
            return new Manifest(in);
        }
    }

    /** Class path entries, including the jars named by manifest {@code Class-Path} (surefire's booter jar). */
    static List<Path> classPathEntries(String classPath) {
        List<Path> out = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        Deque<Path> todo = new ArrayDeque<>();
        for (String s : classPath.split(File.pathSeparator)) {
            if (!s.isBlank()) {
                todo.add(Path.of(s).toAbsolutePath().normalize());
            }
        }
        while (!todo.isEmpty()) {
            Path p = todo.poll();
            if (!seen.add(p)) {
                continue;
            }
            out.add(p);
            if (Files.isRegularFile(p)) {
                todo.addAll(manifestClassPath(p));
            }
        }
        return out;
    }

    private static List<Path> manifestClassPath(Path jarPath) {
        List<Path> out = new ArrayList<>();
        try (JarFile jar = new JarFile(jarPath.toFile())) {
            Manifest mf = jar.getManifest();
            String cp = mf == null ? null : mf.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (cp == null) {
                return out;
            }
            URL base = jarPath.toUri().toURL();
            for (String item : cp.trim().split("\\s+")) {
                URL u = new URL(base, item);
                if ("file".equals(u.getProtocol())) {
                    out.add(Path.of(u.toURI()).toAbsolutePath().normalize());
                }
            }
        } catch (IOException | URISyntaxException e) {
            // not a readable jar: it contributes nothing beyond itself
        }
        return out;
    }
}
