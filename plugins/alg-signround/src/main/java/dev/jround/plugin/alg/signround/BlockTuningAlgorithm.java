package dev.jround.plugin.alg.signround;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.TuningOptions;

import java.util.List;
import java.util.Set;

/**
 * What SignRound and AdamRound share: both tune rounding offsets and min/max scales of a block against its
 * full-precision outputs with {@link BlockTuner}, and differ only in the optimizer step.
 */
abstract class BlockTuningAlgorithm implements QuantAlgorithm {

    private final String name;
    private final String description;
    private final boolean adam;
    private final List<String> aliases;

    BlockTuningAlgorithm(String name, String description, boolean adam, List<String> aliases) {
        this.name = name;
        this.description = description;
        this.adam = adam;
        this.aliases = aliases;
    }

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.ALGORITHM, name, PluginDescriptor.versionOf(getClass(), "1.0.0"), description);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean needsCalibration() {
        return true;
    }

    @Override
    public Set<AlgorithmRole> roles() {
        return Set.of(adam ? AlgorithmRole.ADAM_TUNING : AlgorithmRole.TUNING);
    }

    @Override
    public List<String> aliases() {
        return aliases;
    }

    @Override
    public boolean usesQuantizedInputs(TuningOptions options) {
        return options.enableQuantedInput();
    }

    /** Layer-level SignRound for the lm_head (docs/algorithms.md). */
    @Override
    public boolean tunesSingleLayers() {
        return true;
    }

    @Override
    public BlockResult quantizeBlock(BlockJob job) {
        return BlockTuner.run(job, adam);
    }
}
