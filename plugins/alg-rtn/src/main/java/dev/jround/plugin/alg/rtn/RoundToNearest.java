package dev.jround.plugin.alg.rtn;

import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.LinearWeightSource;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantizedLayer;

import java.util.ArrayList;
import java.util.List;

/**
 * The RTN family (docs/algorithms.md): each layer of the block goes through its data type's host quantizer,
 * either with plain min/max scales or with the importance-weighted scale search.
 */
final class RoundToNearest {

    private RoundToNearest() {
    }

    /**
     * @param optimized run the opt-RTN search where the data type has one (symmetric schemes; asymmetric int falls
     *                  back to plain RTN as the reference does); {@code TuningOptions.disableOptRtn} turns it off
     */
    static BlockResult quantize(BlockJob job, boolean optimized) {
        LinearWeightSource weights = LinearWeightSource.of(job.model(), job.manager());
        boolean search = optimized && !job.options().disableOptRtn();
        List<QuantizedLayer> out = new ArrayList<>();
        for (LayerSpec spec : job.layers()) {
            if (!spec.quantized()) {
                continue;
            }
            QuantDataType type = job.dataTypes().apply(spec.scheme());
            boolean layerSearch = search && spec.scheme().sym();
            float[] importance = layerSearch && job.imatrix() != null ? job.imatrix().get(spec.name()) : null;
            out.add(type.quantize(spec, weights.linearWeight(spec.name()), weights.linearBias(spec.name()),
                    null, null, null, importance, layerSearch));
        }
        return BlockResult.builder().layers(out).build();
    }
}
