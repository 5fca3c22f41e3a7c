package dev.jround.kernel.job;

import ai.djl.ndarray.NDManager;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.LinearWeightSource;
import dev.jround.spi.quant.ProgressListener;

import java.util.List;

/**
 * Stage "per block": the plan's algorithm over every block ({@link BlockPipeline}), each finished layer and block
 * handed to the export as it is done, then the layers outside the blocks (lm_head): tuned by the pipeline when the
 * algorithm takes single-layer jobs, else with RTN from their weights.
 */
final class BlockStage {

    private BlockStage() {
    }

    static List<BlockPipeline.BlockStat> run(Plan plan, LoadedModel model, JobCalibration calib, Export export,
                                             ProgressListener progress) {
        try (NDManager root = model.device().newManager()) {
            BlockPipeline pipeline = new BlockPipeline(model.lm(), plan.algorithm(), plan.dataTypes(), plan.options(),
                    progress, plan.algorithm().collectsImportanceMatrix());
            List<BlockPipeline.BlockStat> stats = pipeline.run(root, plan.layers(), calib.samples(), padTokenId(model),
                    export::add, export::blockFinished);
            boolean optRtn = !plan.choice().disableOptRtn();
            for (LayerSpec s : plan.layers()) {
                if (s.blockIndex() < 0 && s.quantized() && !pipeline.tunedOutsideBlocks().contains(s.name())) {
                    LinearWeightSource w = LinearWeightSource.of(model.lm(), root);
                    export.add(plan.dataTypes().apply(s.scheme()).quantize(s, w.linearWeight(s.name()), null, null, null,
                            null, null, optRtn));
                }
            }
            return stats;
        }
    }

    /** The tokenizer's pad id, or -1 (no tokenizer or no pad token), for the loss mask. */
    private static long padTokenId(LoadedModel m) {
        return m.tokenizer() == null ? -1 : m.tokenizer().padTokenId();
    }
}
