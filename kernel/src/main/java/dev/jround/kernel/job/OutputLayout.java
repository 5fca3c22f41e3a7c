package dev.jround.kernel.job;

import dev.jround.spi.quant.QuantScheme;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a run writes, with AutoRound's naming. How it writes (claim, partial directory, marker, commit,
 * recovery) is {@link dev.jround.kernel.output.OutputTarget}'s job.
 */
public final class OutputLayout {

    private OutputLayout() {
    }

    /**
     * {@code output_dir/<name>-w{bits}g{group}} for the run's main scheme, or {@code <name>-<suffix>} when an exporter
     * names its own ({@link dev.jround.spi.export.Exporter#runDirectorySuffix}); always a child of {@code outputDir},
     * never {@code outputDir} itself (AutoRound writes into {@code output_dir} when the name is empty, and replacing
     * it would delete whatever else it holds).
     */
    public static Path runDirectory(Path outputDir, String model, QuantScheme scheme, Optional<String> exporterSuffix) {
        String name = modelName(model);
        if (exporterSuffix.isPresent()) {
            return outputDir.resolve(name + "-" + exporterSuffix.get());
        }
        String suffix;
        if (scheme.groupSize() <= 0) {
            suffix = "a" + scheme.actBits();
        } else {
            suffix = "g" + scheme.groupSize();
        }
        String dt = scheme.dataType().toLowerCase(Locale.ROOT);
        String prefix = (!dt.contains("int") || dt.contains("mx")) ? dt.replace("_", "") : "";
        String leaf = name + "-" + (prefix.isEmpty() ? "" : prefix + "-") + "w" + scheme.bits() + suffix;
        return outputDir.resolve(leaf);
    }

    /**
     * The last element of the model path or repo id; a path of dots only ({@code .}, {@code ..}, {@code dir/.})
     * names the directory it resolves to, and the file-system root names {@code model}.
     */
    static String modelName(String model) {
        Path p = Path.of(model);
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        if (name.replace(".", "").isEmpty()) {
            Path abs = p.toAbsolutePath().normalize().getFileName();
            name = abs == null ? "" : abs.toString();
        }
        return name.isEmpty() ? "model" : name;
    }

    /** With several formats each gets a sub-directory named after the format ({@code :} and {@code _} become {@code -}). */
    public static Path formatDirectory(Path runDir, String format, int formatCount) {
        return formatCount == 1 ? runDir : runDir.resolve(format.replace(':', '-').replace('_', '-'));
    }
}
