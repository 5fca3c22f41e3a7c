package dev.jround.spi.quant;

/**
 * The slots of AutoRound's top-level routing (docs/algorithms.md, "Which algorithm runs") that an algorithm plugin can fill. The kernel
 * decides which slot a run needs from iters, enable_adam, disable_opt_rtn and the scheme, then takes the plugin
 * that declares it ({@link QuantAlgorithm#roles()}), never a plugin by name.
 */
public enum AlgorithmRole {
    /** {@code iters > 0}: block tuning with signed-gradient steps (AutoRound's default). */
    TUNING(true),
    /** {@code iters > 0} with {@code enable_adam}: block tuning with AdamW steps. */
    ADAM_TUNING(true),
    /** {@code iters == 0} with optimized RTN on and an importance matrix wanted: needs calibration data. */
    OPTIMIZED_RTN(false),
    /** {@code iters == 0} otherwise: round-to-nearest from the weights alone. */
    RTN(false);

    private final boolean tuning;

    AlgorithmRole(boolean tuning) {
        this.tuning = tuning;
    }

    /** Whether the slot runs tuning iterations; an {@code --algorithm} naming only non-tuning plugins sets iters to 0. */
    public boolean tuning() {
        return tuning;
    }
}
