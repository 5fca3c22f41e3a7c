package dev.jround.plugin.alg.signround;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.TuningOptions;

/** AutoRound's SignRound: sign-gradient tuning of rounding offsets and min/max scales per block (the default). */
public final class SignRoundAlgorithm implements QuantAlgorithm {

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.ALGORITHM, "signround", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "SignRound: signed-gradient tuning of rounding and clipping against block outputs");
    }

    @Override
    public String name() {
        return "signround";
    }

    @Override
    public boolean needsCalibration() {
        return true;
    }

    @Override
    public boolean usesQuantizedInputs(TuningOptions options) {
        return options.enableQuantedInput();
    }

    @Override
    public BlockResult quantizeBlock(BlockJob job) {
        return BlockTuner.run(job, false);
    }
}
