package dev.jround.kernel.job;

import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One quantization run, as a sequence of stages (docs/architecture.md, "The path of one job, stage by stage"):
 * resolve the formats, open the model, plan, claim the output, calibrate, quantize block by block while streaming
 * finished layers to every exporter, then finish each export and commit it atomically. Each stage takes what the
 * one before produced; the job knows plugins only through their SPIs.
 */
public final class QuantizationJob {

    private final PluginRegistry registry;
    private final ProgressListener progress;

    /** {@code progress} may be a {@link JobProgress}: it then also hears block boundaries and can cancel the run. */
    public QuantizationJob(PluginRegistry registry, ProgressListener progress) {
        this.registry = registry;
        this.progress = progress == null ? ProgressListener.NONE : progress;
    }

    /** The outcome of a run. */
    public record Result(RunSummary summary, List<LayerSpec> layers) {
        public void printSummary(PrintWriter out) {
            summary.print(out);
        }

        public List<Path> outputs() {
            return summary.outputs();
        }
    }

    /** What the export and block stages call into (JobProgress#pluginsInUse). */
    private static List<Object> inUse(Formats formats, LoadedModel model, Plan plan) {
        List<Object> out = new ArrayList<>(formats.exporters());
        out.addAll(Arrays.asList(model.architecture(), model.lm(), model.weights(), model.device(), plan.algorithm()));
        if (model.tokenizer() != null) {
            out.add(model.tokenizer());
        }
        plan.layers().stream().filter(LayerSpec::quantized).map(s -> plan.dataTypes().apply(s.scheme())).distinct()
                .forEach(out::add);
        return out;
    }

    public Result run(QuantizeRequest request) {
        long t0 = System.nanoTime();
        Formats formats = Formats.resolve(registry, request);                  // flags: formats and exporters
        formats.request().notices().forEach(progress::message);
        JobProgress.checkCancelled(progress);
        try (LoadedModel model = JobModel.open(registry, formats.request())) { // config.json, headers, shapes
            Plan plan = Plan.decide(registry, formats, model, progress);       // scheme, exporter refusals, NaN scan
            OutputLayout.Claim claim = OutputLayout.claim(plan, model, progress); // last refusal before work
            JobCalibration calib = JobCalibration.forPlan(registry, plan, model, progress);
            JobProgress.checkCancelled(progress);
            if (progress instanceof JobProgress p) {
                p.pluginsInUse(inUse(formats, model, plan));
            }
            try (Export export = Export.open(plan, model, calib, claim)) {     // <run>.partial/<format>/
                List<BlockPipeline.BlockStat> stats = BlockStage.run(plan, model, calib, export, progress);
                JobProgress.checkCancelled(progress);                          // last chance before the commit
                export.finish(model.weights());                                // other tensors, finish, commit
                return new Result(RunSummary.of(plan, calib, export, stats, t0), plan.layers());
            }
        }
    }
}
