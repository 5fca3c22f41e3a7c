package dev.jround.kernel.job;

import dev.jround.kernel.model.LoadedModel;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** What every exporter is told about the run ({@code ExportContext.runOptions}, {@code maxShardBytes}). */
final class RunOptions {

    private RunOptions() {
    }

    static Map<String, Object> of(Plan plan, JobCalibration calib) {
        QuantizeRequest r = plan.request();
        AlgorithmChoice c = plan.choice();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("iters", r.effectiveIters());
        m.put("lr", r.effectiveLr());
        m.put("minmax_lr", r.minmaxLr());
        m.put("nsamples", r.effectiveNsamples());
        m.put("samples_used", calib.samples().size());
        m.put("seqlen", r.effectiveSeqlen());
        m.put("batch_size", r.effectiveBatchSize());
        m.put("gradient_accumulate_steps", r.gradientAccumulateSteps());
        m.put("enable_minmax_tuning", r.enableMinmaxTuning());
        m.put("enable_quanted_input", r.enableQuantedInput());
        m.put("seed", r.seed());
        // jround computes in float32 (bf16 is emulated on request), i.e. without mixed precision
        m.put("amp", false);
        m.put("dataset", calib.description());
        m.put("algorithm", c.algorithm());
        m.put("disable_opt_rtn", c.disableOptRtn());
        m.put("recipe", r.recipe().name().toLowerCase(Locale.ROOT));
        m.put("quant_lm_head", r.quantLmHead());
        // HfExportSession.putTuning writes these only when they differ from AutoRound's defaults; put only when
        // given so that runs without the flags keep their exact metadata
        if (r.lowGpuMemUsage()) {
            m.put("low_gpu_mem_usage", true);
        }
        if (r.scaleDtype() != null) {
            m.put("scale_dtype", plan.setup().scheme().scaleDtype());
        }
        m.put("autoround_version", "jround-0.1.0");
        return m;
    }

    static long shardLimit(QuantizeRequest r, LoadedModel model) {
        if (r.maxShardBytes() > 0) {
            return r.maxShardBytes();
        }
        // AutoRound's immediate-saving rule: clamp(floor((P*8/1e9/8 + 9) / 10), 1, 5) GiB.
        long params = 0;
        for (String n : model.weights().names()) {
            params += model.weights().info(n).map(i -> i.numel()).orElse(0L);
        }
        long gib = Math.max(1, Math.min(5, (long) Math.floor((params * 8 / 1e9 / 8 + 9) / 10)));
        return gib << 30;
    }
}
