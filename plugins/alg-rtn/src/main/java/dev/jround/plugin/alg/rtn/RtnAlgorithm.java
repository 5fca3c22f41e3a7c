package dev.jround.plugin.alg.rtn;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.QuantAlgorithm;

import java.util.List;
import java.util.Set;

/** Plain round-to-nearest with min/max scales; needs no calibration data ({@code --iters 0 --disable_opt_rtn}). */
public final class RtnAlgorithm implements QuantAlgorithm {

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.ALGORITHM, "rtn", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "round-to-nearest with min/max scales, no calibration data");
    }

    @Override
    public String name() {
        return "rtn";
    }

    @Override
    public boolean needsCalibration() {
        return false;
    }

    @Override
    public Set<AlgorithmRole> roles() {
        return Set.of(AlgorithmRole.RTN);
    }

    @Override
    public List<String> aliases() {
        return List.of("rtn");
    }

    @Override
    public BlockResult quantizeBlock(BlockJob job) {
        return RoundToNearest.quantize(job, false);
    }
}
