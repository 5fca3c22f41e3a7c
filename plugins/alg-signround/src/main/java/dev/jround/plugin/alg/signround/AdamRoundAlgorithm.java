package dev.jround.plugin.alg.signround;

/**
 * The AdamW variant of SignRound ({@code --adam} / {@code --enable_adam}): same parameters and loss, AdamW steps.
 * --algorithm cannot name it (AutoRound has no such value): --enable_adam reaches it through the routing.
 */
public final class AdamRoundAlgorithm extends BlockTuningAlgorithm {

    public AdamRoundAlgorithm() {
        super("adam", "AdamRound: AdamW tuning of rounding and clipping against block outputs", true, java.util.List.of());
    }
}
