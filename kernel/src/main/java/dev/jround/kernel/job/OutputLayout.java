package dev.jround.kernel.job;

import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.output.OutputTarget;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantScheme;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
     * Stage "claim", the last refusal before work: refuses overlaps with the inputs and outputs jround did not write,
     * and recovers a replacement a killed run left half done. The target is written only after calibration.
     */
    static Claim claim(Plan plan, LoadedModel model, ProgressListener progress) {
        QuantizeRequest r = plan.request();
        Path runDir = runDirectory(Path.of(r.outputDir()), r.model(), plan.setup().scheme(), plan.formats().runDirectorySuffix());
        return new Claim(runDir, OutputTarget.claim(runDir, inputs(r, model), true, "quantize", progress::message));
    }

    /** A claimed run directory: {@code runDir} as the request named it (reported as such), and its target. */
    record Claim(Path runDir, OutputTarget target) {
    }

    /** What the run reads: the model directory and local calibration files named in the dataset spec. */
    private static List<Path> inputs(QuantizeRequest r, LoadedModel model) {
        List<Path> in = new ArrayList<>();
        in.add(model.source());
        if (r.dataset() != null) {
            for (String entry : r.dataset().split(",")) {
                String name = entry.split(":", 2)[0].trim();
                try {
                    if (!name.isEmpty() && Files.exists(Path.of(name))) {
                        in.add(Path.of(name));
                    }
                } catch (InvalidPathException ignored) {
                    // a hub dataset id, not a path
                }
            }
        }
        return in;
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
