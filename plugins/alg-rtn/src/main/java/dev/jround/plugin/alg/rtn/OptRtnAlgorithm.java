package dev.jround.plugin.alg.rtn;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.QuantAlgorithm;

import java.util.Set;

/**
 * Optimized RTN ({@code --iters 0}): an importance-weighted scale search per group, the importance being the mean
 * squared input activation of each input channel collected on calibration data ({@link BlockJob#imatrix()}).
 * Asymmetric schemes fall back to plain RTN, as in the reference.
 */
public final class OptRtnAlgorithm implements QuantAlgorithm {

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.ALGORITHM, "opt_rtn", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "optimized round-to-nearest: imatrix-weighted scale search on calibration data");
    }

    @Override
    public String name() {
        return "opt_rtn";
    }

    @Override
    public boolean needsCalibration() {
        return true;
    }

    @Override
    public boolean collectsImportanceMatrix() {
        return true;
    }

    /** Not named by --algorithm: {@code rtn} with opt-RTN on reaches it through the routing. */
    @Override
    public Set<AlgorithmRole> roles() {
        return Set.of(AlgorithmRole.OPTIMIZED_RTN);
    }

    @Override
    public BlockResult quantizeBlock(BlockJob job) {
        return RoundToNearest.quantize(job, true);
    }
}
