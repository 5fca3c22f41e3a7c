package dev.jround.it;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared (the real model and the reference exports); tests that need it are skipped without it. */
public final class Shared {

    private Shared() {
    }

    public static Path root() {
        String p = System.getProperty("jround.shared", "../shared");
        return Path.of(p).toAbsolutePath().normalize();
    }

    public static Path aidreams() {
        Path m = root().resolve("models/aidreams260K");
        Assumptions.assumeTrue(Files.isRegularFile(m.resolve("model.safetensors")), "../shared/models/aidreams260K not present");
        return m;
    }

    public static Path referenceExport(String name) {
        Path m = root().resolve("models/aidreams260K-reference-exports").resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(m), "reference export " + name + " not present");
        return m;
    }
}
