package dev.jround.spi.quant;

import dev.jround.spi.JroundPlugin;

/**
 * Turns one decoder block plus its calibration inputs into quantized layers (SignRound, RTN, ...).
 * The kernel runs the block loop and streams the results to exporters.
 */
public interface QuantAlgorithm extends JroundPlugin {

    /** Canonical name: {@code rtn}, {@code opt_rtn}, {@code signround}, {@code adam}. */
    String name();

    /** Whether the algorithm needs calibration inputs (RTN does not). */
    boolean needsCalibration();

    /** Whether the next block should be fed this block's quantized outputs (SignRound's quantized-input stream). */
    default boolean usesQuantizedInputs(TuningOptions options) {
        return false;
    }

    BlockResult quantizeBlock(BlockJob job);
}
