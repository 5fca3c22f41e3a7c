package dev.jround.kernel.job;

import ai.djl.ndarray.NDManager;
import dev.jround.kernel.calib.CalibrationContext;
import dev.jround.kernel.calib.ModelSampler;
import dev.jround.kernel.calib.CalibrationPipeline;
import dev.jround.kernel.calib.CalibrationSet;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.ProgressListener;

import java.util.ArrayList;
import java.util.List;

/**
 * Calibration samples for a run: the dataset spec prepared by the kernel's calibration pipeline, with
 * the run's model as the sampler behind {@code self:} data. {@code seqlen} is clamped to the model's
 * context as AutoRound does.
 *
 * @param description the dataset spec used, or {@code none}
 */
record JobCalibration(List<long[]> samples, String description) {

    static final JobCalibration NONE = new JobCalibration(List.of(), "none");

    /** Stage "calibrate": samples only when the chosen algorithm needs data, else {@link #NONE}. */
    static JobCalibration forPlan(PluginRegistry registry, Plan plan, LoadedModel model, ProgressListener progress) {
        if (!plan.choice().needsData() || !plan.algorithm().needsCalibration()) {
            return NONE;
        }
        return prepare(registry, plan.request(), model, progress);
    }

    static JobCalibration prepare(PluginRegistry registry, QuantizeRequest r, LoadedModel model, ProgressListener progress) {
        if (model.tokenizer() == null && (r.dataset() == null || !r.dataset().startsWith("self"))) {
            throw new InvalidInputException("model " + model.source() + " has no tokenizer a plugin can load",
                    "add tokenizer.json to the model directory, or calibrate with --dataset self:num=N");
        }
        int seqlen = r.effectiveSeqlen();
        int context = model.lm().maxPositions();
        if (context > 0 && seqlen > context) {
            progress.message("seqlen " + seqlen + " exceeds the model context " + context + "; using " + context);
            seqlen = context;
        }
        if (model.tokenizer() != null && model.tokenizer().modelMaxLength() < seqlen) {
            seqlen = model.tokenizer().modelMaxLength();
        }
        CalibrationSet set;
        try (NDManager manager = model.device().newManager()) {
            long bos = model.tokenizer() == null ? 1 : Math.max(0, model.tokenizer().bosTokenId());
            CalibrationContext ctx = CalibrationContext.builder(model.tokenizer())
                    .seed(r.seed()).seqlen(seqlen).nsamples(r.effectiveNsamples())
                    .codeModel(dev.jround.kernel.calib.CodeModels.isCodeModel(r.model(), model.config()))
                    .sampler(new ModelSampler(model.lm(), manager, bos, progress::message))
                    .log(progress::message)
                    .build();
            set = new CalibrationPipeline(registry).prepare(r.dataset(), ctx);
        }
        set.summary().lines().forEach(progress::message);
        if (set.size() == 0) {
            throw new InvalidInputException("the calibration data " + set.summary().spec() + " gave no sample of " + seqlen + " tokens",
                    "use a dataset with longer texts, lower --seqlen, or add :concat=True to the dataset spec");
        }
        List<long[]> rows = new ArrayList<>(set.inputIds());
        return new JobCalibration(rows, set.summary().spec());
    }
}
