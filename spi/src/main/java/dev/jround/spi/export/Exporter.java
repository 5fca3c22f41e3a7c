package dev.jround.spi.export;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Optional;

/**
 * Writes quantized layers and the rest of a checkpoint in one on-disk format family. The kernel
 * checks {@link #refusal} for every layer before any work starts, then streams layers in.
 */
public interface Exporter extends JroundPlugin {

    /** The exact {@code --format} strings this exporter answers, e.g. {@code auto_round}, {@code auto_round:auto_gptq}. */
    List<String> formats();

    /** Human summary of the schemes a format accepts, for {@code jround list format}. */
    String supportedSchemes(String format);

    /**
     * Why {@code format} cannot represent the layer's resolved scheme, or empty if it can. Layers left in
     * full precision are always acceptable.
     */
    Optional<String> refusal(String format, LayerSpec layer);

    /** Whether the format can store a quantized lm_head. */
    default boolean acceptsQuantizedLmHead(String format) {
        return false;
    }

    /**
     * The last part of the run directory's name ({@code <model>-<suffix>}) when the run writes {@code format}, or empty
     * to use the scheme's ({@code w4g128}). A format whose files do not depend on one scheme (a mixture) names its own.
     */
    default Optional<String> runDirectorySuffix(String format) {
        return Optional.empty();
    }

    /** Whether a run without {@code --format} writes {@code format}. */
    default boolean isDefault(String format) {
        return false;
    }

    ExportSession open(ExportContext context);

    /**
     * Why {@code format} cannot hold this model at all, or empty if it can; checked with {@link #refusal} before
     * any work starts. {@code layout} is the architecture's declaration, or {@code null} when its plugin declares
     * none.
     */
    default Optional<String> modelRefusal(String format, TensorLayout layout) {
        return Optional.empty();
    }
}
