package dev.jround.plugin.alg.signround;

/** AutoRound's SignRound: sign-gradient tuning of rounding offsets and min/max scales per block (the default). */
public final class SignRoundAlgorithm extends BlockTuningAlgorithm {

    public SignRoundAlgorithm() {
        super("signround", "SignRound: signed-gradient tuning of rounding and clipping against block outputs", false,
                java.util.List.of("auto_round", "autoround", "signround", "sign_round"));
    }
}
