package dev.jround.kernel.job;

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
    public String scheme = "W4A16";
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
    public List<String> formats = new ArrayList<>(List.of("auto_round"));
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
