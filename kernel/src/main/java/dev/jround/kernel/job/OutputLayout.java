package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.quant.QuantScheme;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;

/**
 * Where a run writes (AutoRound's naming, datasets-and-cli.md 7.1) and how it writes atomically:
 * everything goes to {@code <dir>.partial} first and is renamed to {@code <dir>} only when complete.
 */
public final class OutputLayout {

    private OutputLayout() {
    }

    /** {@code output_dir/<name>-w{bits}g{group}} (or {@code <name>-gguf}) for the run's main scheme. */
    public static Path runDirectory(Path outputDir, String model, QuantScheme scheme, List<String> formats) {
        String name = Path.of(model).getFileName() == null ? "" : Path.of(model).getFileName().toString();
        if (name.replace(".", "").isEmpty()) {
            name = "";
        }
        boolean gguf = formats.stream().anyMatch(f -> f.startsWith("gguf"));
        if (gguf) {
            return name.isEmpty() ? outputDir : outputDir.resolve(name + "-gguf");
        }
        String suffix;
        if (scheme.groupSize() <= 0) {
            suffix = "a" + scheme.actBits();
        } else {
            suffix = "g" + scheme.groupSize();
        }
        String dt = scheme.dataType().toLowerCase(Locale.ROOT);
        String prefix = (!dt.contains("int") || dt.contains("mx")) ? dt.replace("_", "") : "";
        String leaf = (name.isEmpty() ? "" : name + "-") + (prefix.isEmpty() ? "" : prefix + "-") + "w" + scheme.bits() + suffix;
        return outputDir.resolve(leaf);
    }

    /** With several formats each gets a sub-directory named after the format ({@code :} and {@code _} become {@code -}). */
    public static Path formatDirectory(Path runDir, String format, int formatCount) {
        return formatCount == 1 ? runDir : runDir.resolve(format.replace(':', '-').replace('_', '-'));
    }

    /** The temporary sibling a run writes into. */
    public static Path partial(Path finalDir) {
        return finalDir.resolveSibling(finalDir.getFileName() + ".partial");
    }

    /** Creates a fresh, empty {@code <dir>.partial}, refusing to write over the model being read. */
    public static Path prepare(Path finalDir, Path modelDir) {
        Path abs = finalDir.toAbsolutePath().normalize();
        if (modelDir != null) {
            Path m = modelDir.toAbsolutePath().normalize();
            if (abs.equals(m) || m.startsWith(abs)) {
                throw new InvalidInputException("output directory " + finalDir + " would overwrite the input model " + modelDir,
                        "choose another --output_dir");
            }
        }
        Path p = partial(finalDir);
        try {
            deleteRecursively(p);
            Files.createDirectories(p);
            return p;
        } catch (IOException e) {
            throw new JroundException("cannot create output directory " + p + ": " + e.getMessage(), "check permissions and free space", e);
        }
    }

    /** Moves a complete {@code <dir>.partial} into place, replacing an older result. */
    public static void commit(Path finalDir) {
        Path p = partial(finalDir);
        try {
            if (Files.exists(finalDir)) {
                Path old = finalDir.resolveSibling(finalDir.getFileName() + ".old");
                deleteRecursively(old);
                Files.move(finalDir, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(p, finalDir, StandardCopyOption.ATOMIC_MOVE);
                deleteRecursively(old);
            } else {
                Files.createDirectories(finalDir.toAbsolutePath().getParent());
                Files.move(p, finalDir, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new JroundException("cannot move " + p + " to " + finalDir + ": " + e.getMessage(), null, e);
        }
    }

    /** Removes a partial directory after a failure. */
    public static void discard(Path finalDir) {
        try {
            deleteRecursively(partial(finalDir));
        } catch (IOException ignored) {
            // leaving a *.partial behind is safe: it never looks complete
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                try {
                    Files.delete(dir);
                } catch (DirectoryNotEmptyException e) {
                    throw new UncheckedIOException(e);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
