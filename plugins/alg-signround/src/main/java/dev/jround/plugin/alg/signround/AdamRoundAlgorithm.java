package dev.jround.plugin.alg.signround;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.TuningOptions;

/** The AdamW variant of SignRound ({@code --adam} / {@code --enable_adam}): same parameters and loss, AdamW steps. */
public final class AdamRoundAlgorithm implements QuantAlgorithm {

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.ALGORITHM, "adam", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "AdamRound: AdamW tuning of rounding and clipping against block outputs");
    }

    @Override
    public String name() {
        return "adam";
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
        return BlockTuner.run(job, true);
    }
}
