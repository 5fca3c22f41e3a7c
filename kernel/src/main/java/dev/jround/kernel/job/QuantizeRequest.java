package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a quantization run needs, with AutoRound's flag names. {@code null} means "not given":
 * the recipe, the scheme or the automatic rules decide. The CLI and the Java API both fill this.
 */
public final class QuantizeRequest {

    public String model;
    public Recipe recipe = Recipe.DEFAULT;

    // scheme and overrides
    /** A preset name; {@code null}: the default preset a scheme plugin declares. */
    public String scheme;
    public Integer bits;
    public Integer groupSize;
    public Boolean sym;
    public String dataType;
    public String scaleDtype;
    public Map<String, Object> layerConfig = new LinkedHashMap<>();
    public String ignoreLayers = "";
    public boolean quantLmHead;
    public String toQuantBlockNames;

    // data
    public String dataset;
    public Integer nsamples;
    public Integer seqlen;
    public Integer batchSize;
    public long seed = 42;

    // algorithm
    public Integer iters;
    public Double lr;
    public Double minmaxLr;
    public boolean enableMinmaxTuning = true;
    public boolean notUseBestMse;
    public int dynamicMaxGap = -1;
    public double momentum;
    public int gradientAccumulateSteps = 1;
    public boolean enableQuantedInput = true;
    public Boolean disableOptRtn;
    public boolean enableAdam;
    public String algorithm;

    // runtime
    /** Export formats; {@code null}: the default format an exporter declares. */
    public List<String> formats;
    public String outputDir = "./tmp_autoround";
    public String device = "cpu";
    public String modelDtype;
    public boolean lowGpuMemUsage;
    public boolean printConfig;
    public long maxShardBytes = -1;
    /** Lines the run prints first: AutoRound flags that were given but cannot change anything in jround. */
    public List<String> notices = new ArrayList<>();

    public int effectiveIters() {
        int it = iters != null ? iters : recipe.iters;
        return it < 0 ? 200 : it;
    }

    /**
     * Refuses values no run can use, before anything is loaded: one message naming the value and what is valid.
     * The CLI and the Java API both come through here (QuantizationJob.run calls it first).
     */
    public void validate() {
        if (model == null || model.isBlank()) {
            throw new InvalidInputException("no model given", "pass a local model directory or a Hugging Face repo id: --model PATH_OR_ID");
        }
        if (iters != null && iters < 0) {
            // AutoRound replaces a negative value by 200 with a warning; a typo should not start a 200-iteration run
            throw new InvalidInputException("--iters " + iters + " is invalid", "iters is 0 (RTN / optimized RTN) or a positive count such as 200");
        }
        positive("--nsamples", nsamples);
        positive("--seqlen", seqlen);
        positive("--batch_size", batchSize);
        positive("--gradient_accumulate_steps", gradientAccumulateSteps);
        if (lr != null && !(Double.isFinite(lr) && lr > 0)) {
            throw new InvalidInputException("--lr " + lr + " is invalid", "the learning rate is a positive number such as 0.005 (leave it out for 1/iters)");
        }
        if (minmaxLr != null && !(Double.isFinite(minmaxLr) && minmaxLr > 0)) {
            throw new InvalidInputException("--minmax_lr " + minmaxLr + " is invalid", "the min/max learning rate is a positive number (leave it out to use --lr)");
        }
        if (!(Double.isFinite(momentum) && momentum >= 0 && momentum < 1)) {
            throw new InvalidInputException("--momentum " + momentum + " is invalid", "momentum is in [0, 1); the default is 0");
        }
        if (seed < 0 || seed > 0xFFFFFFFFL) {
            // the reference seeds NumPy, which takes 0..2^32-1
            throw new InvalidInputException("--seed " + seed + " is invalid", "a seed is an integer from 0 to 4294967295 (default 42)");
        }
        if (dynamicMaxGap == 0 || dynamicMaxGap < -1) {
            throw new InvalidInputException("dynamic_max_gap " + dynamicMaxGap + " is invalid", "-1 (off) or a positive number of iterations");
        }
        if (formats != null && formats.isEmpty()) {
            throw new InvalidInputException("no export format given", "run 'jround list format' for the valid formats");
        }
        if (outputDir == null || outputDir.isBlank()) {
            throw new InvalidInputException("--output_dir is empty", "name the directory the quantized model goes under, e.g. ./tmp_autoround");
        }
        if (maxShardBytes == 0 || maxShardBytes < -1) {
            throw new InvalidInputException("--max_shard_size " + maxShardBytes + " is invalid", "a positive number of bytes, e.g. 5000000000 (leave it out for AutoRound's rule)");
        }
    }

    private static void positive(String flag, Integer v) {
        if (v != null && v <= 0) {
            throw new InvalidInputException(flag + " must be a positive integer, got " + v, "for example " + flag + " 128");
        }
    }

    public int effectiveNsamples() {
        return nsamples != null ? nsamples : recipe.nsamples;
    }

    public int effectiveSeqlen() {
        return seqlen != null ? seqlen : recipe.seqlen;
    }

    public int effectiveBatchSize() {
        return batchSize != null ? batchSize : recipe.batchSize;
    }

    public Double effectiveLr() {
        return lr != null ? lr : recipe.lr;
    }

    /** The user's choice, else the recipe's, else {@code null} (automatic rule). */
    public Boolean effectiveDisableOptRtn() {
        return disableOptRtn != null ? disableOptRtn : recipe.disableOptRtn;
    }
}
