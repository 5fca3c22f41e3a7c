package dev.jround.spi.quant;

import dev.jround.spi.JroundPlugin;

import java.util.List;
import java.util.Set;

/**
 * Turns one decoder block plus its calibration inputs into quantized layers (SignRound, RTN, ...).
 * The kernel runs the block loop and streams the results to exporters. It picks the plugin by the
 * {@link #roles()} it declares and feeds it what the capability methods ask for; it never matches a name.
 */
public interface QuantAlgorithm extends JroundPlugin {

    /** Canonical name ({@code rtn}, {@code opt_rtn}, {@code signround}, {@code adam}), recorded in the run's metadata. */
    String name();

    /** Whether the algorithm needs calibration inputs (RTN does not). */
    boolean needsCalibration();

    /** Whether the next block should be fed this block's quantized outputs (SignRound's quantized-input stream). */
    default boolean usesQuantizedInputs(TuningOptions options) {
        return false;
    }

    /** Whether the kernel collects each layer's importance matrix on calibration data for {@link BlockJob#imatrix()}. */
    default boolean collectsImportanceMatrix() {
        return false;
    }

    /** The routing slots this plugin fills; empty: AutoRound's routing never picks it. */
    default Set<AlgorithmRole> roles() {
        return Set.of();
    }

    /**
     * The {@code --algorithm} values that name this plugin (e.g. {@code auto_round}, {@code rtn}); empty: the flag
     * cannot name it. An {@code --algorithm} list naming no plugin with a {@linkplain AlgorithmRole#tuning() tuning}
     * role runs with {@code iters 0}.
     */
    default List<String> aliases() {
        return List.of();
    }

    /**
     * Whether {@link #quantizeBlock} also takes single-layer jobs ({@code blockIndex < 0}, see {@link BlockJob}) for
     * quantized layers outside the blocks, such as an untied lm_head tuned with layer-level SignRound. When false the
     * kernel rounds those layers to nearest (RTN).
     */
    default boolean tunesSingleLayers() {
        return false;
    }

    BlockResult quantizeBlock(BlockJob job);
}
