package dev.jround.kernel.job;

import dev.jround.kernel.config.LayerConfigParser;
import dev.jround.spi.InvalidInputException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything a quantization run needs, with AutoRound's flag names. {@code null} means "not given":
 * the recipe, the scheme or the automatic rules decide.
 *
 * <p>Immutable; made only by {@link Builder#build()}, which runs every check that needs no model. The CLI
 * ({@code QuantizeCommand}) and the Java API ({@code AutoRound.builder}) both map their inputs to the same
 * {@link Builder} calls, so both refuse the same values with the same messages.
 */
public final class QuantizeRequest {

    private final Builder source;
    private final String model;
    private final Recipe recipe;

    // scheme and overrides
    private final String scheme;
    private final Integer bits;
    private final Integer groupSize;
    private final Boolean sym;
    private final String dataType;
    private final String scaleDtype;
    private final Integer actBits;
    private final Integer actGroupSize;
    private final Boolean actSym;
    private final String actDataType;
    private final Boolean actDynamic;
    private final Map<String, Object> layerConfig;
    private final String ignoreLayers;
    private final boolean quantLmHead;
    private final String toQuantBlockNames;

    // data
    private final String dataset;
    private final Integer nsamples;
    private final Integer seqlen;
    private final Integer batchSize;
    private final long seed;

    // algorithm
    private final Integer iters;
    private final Double lr;
    private final Double minmaxLr;
    private final boolean enableMinmaxTuning;
    private final boolean notUseBestMse;
    private final int dynamicMaxGap;
    private final double momentum;
    private final int gradientAccumulateSteps;
    private final boolean enableQuantedInput;
    private final Boolean disableOptRtn;
    private final boolean enableAdam;
    private final String algorithm;

    // runtime
    private final List<String> formats;
    private final String outputDir;
    private final String device;
    private final String modelDtype;
    private final boolean lowGpuMemUsage;
    private final boolean printConfig;
    private final long maxShardBytes;
    private final List<String> notices;

    private QuantizeRequest(Builder b, Recipe recipe, Map<String, Object> layerConfig, List<String> notices) {
        this.source = b.copy();
        this.model = b.model;
        this.recipe = recipe;
        this.scheme = b.scheme;
        this.bits = b.bits;
        this.groupSize = b.groupSize;
        this.sym = b.asym ? Boolean.FALSE : b.sym;
        this.dataType = b.dataType;
        this.scaleDtype = b.scaleDtype;
        this.actBits = b.actBits;
        this.actGroupSize = b.actGroupSize;
        this.actSym = b.actSym;
        this.actDataType = b.actDataType;
        this.actDynamic = b.actDynamic;
        this.layerConfig = Collections.unmodifiableMap(layerConfig);
        this.ignoreLayers = b.ignoreLayers;
        this.quantLmHead = b.quantLmHead;
        this.toQuantBlockNames = b.toQuantBlockNames;
        this.dataset = b.dataset;
        this.nsamples = b.nsamples;
        this.seqlen = b.seqlen;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.iters = b.iters;
        this.lr = b.lr;
        this.minmaxLr = b.minmaxLr;
        this.enableMinmaxTuning = b.enableMinmaxTuning;
        this.notUseBestMse = b.notUseBestMse;
        this.dynamicMaxGap = b.dynamicMaxGap;
        this.momentum = b.momentum;
        this.gradientAccumulateSteps = b.gradientAccumulateSteps;
        this.enableQuantedInput = b.enableQuantedInput;
        this.disableOptRtn = b.enableOptRtn ? Boolean.FALSE : b.disableOptRtn;
        this.enableAdam = b.enableAdam;
        this.algorithm = b.algorithm;
        this.formats = b.formats == null ? null : List.copyOf(b.formats);
        this.outputDir = b.outputDir;
        this.device = b.device;
        this.modelDtype = b.modelDtype;
        this.lowGpuMemUsage = b.lowGpuMemUsage;
        this.printConfig = b.printConfig;
        this.maxShardBytes = b.maxShardBytes == null ? -1 : b.maxShardBytes;
        this.notices = List.copyOf(notices);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding exactly what this request was built from, to change a few values and build again. */
    public Builder toBuilder() {
        return source.copy();
    }

    public String model() { return model; }
    public Recipe recipe() { return recipe; }
    public String scheme() { return scheme; }
    public Integer bits() { return bits; }
    public Integer groupSize() { return groupSize; }
    public Boolean sym() { return sym; }
    public String dataType() { return dataType; }
    public String scaleDtype() { return scaleDtype; }
    /** Activation overrides ({@code --act_bits}, {@code --act_group_size}, ...); {@code null}: not given. */
    public Integer actBits() { return actBits; }
    public Integer actGroupSize() { return actGroupSize; }
    public Boolean actSym() { return actSym; }
    public String actDataType() { return actDataType; }
    public Boolean actDynamic() { return actDynamic; }
    public Map<String, Object> layerConfig() { return layerConfig; }
    public String ignoreLayers() { return ignoreLayers; }
    public boolean quantLmHead() { return quantLmHead; }
    public String toQuantBlockNames() { return toQuantBlockNames; }
    public String dataset() { return dataset; }
    public Integer nsamples() { return nsamples; }
    public Integer seqlen() { return seqlen; }
    public Integer batchSize() { return batchSize; }
    public long seed() { return seed; }
    public Integer iters() { return iters; }
    public Double lr() { return lr; }
    public Double minmaxLr() { return minmaxLr; }
    public boolean enableMinmaxTuning() { return enableMinmaxTuning; }
    public boolean notUseBestMse() { return notUseBestMse; }
    public int dynamicMaxGap() { return dynamicMaxGap; }
    public double momentum() { return momentum; }
    public int gradientAccumulateSteps() { return gradientAccumulateSteps; }
    public boolean enableQuantedInput() { return enableQuantedInput; }
    public Boolean disableOptRtn() { return disableOptRtn; }
    public boolean enableAdam() { return enableAdam; }
    public String algorithm() { return algorithm; }
    public List<String> formats() { return formats; }
    public String outputDir() { return outputDir; }
    public String device() { return device; }
    public String modelDtype() { return modelDtype; }
    public boolean lowGpuMemUsage() { return lowGpuMemUsage; }
    public boolean printConfig() { return printConfig; }
    /** The shard size limit in bytes, or -1 for AutoRound's rule. */
    public long maxShardBytes() { return maxShardBytes; }
    /** Lines the run prints first: AutoRound flags that were given but cannot change anything in jround. */
    public List<String> notices() { return notices; }

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

    /**
     * Collects a request; setters only record (the last call wins, like a repeated flag in argparse) and
     * {@link #build()} checks. Boxed parameters take {@code null} for "not given".
     */
    public static final class Builder implements Cloneable {
        private String model;
        private String recipe;
        /** A preset name; {@code null}: the default preset a scheme plugin declares. */
        private String scheme;
        private Integer bits;
        private Integer groupSize;
        private Boolean sym;
        private boolean asym;
        private String dataType;
        private String scaleDtype;
        private Integer actBits;
        private Integer actGroupSize;
        private Boolean actSym;
        private String actDataType;
        private Boolean actDynamic;
        // the text form (CLI) is parsed in build(); the last of layerConfig(String) / layerConfig(Map) wins
        private String layerConfigText;
        private Map<String, Object> layerConfigMap = Map.of();
        private String ignoreLayers = "";
        private boolean quantLmHead;
        private String toQuantBlockNames;
        private String dataset;
        private Integer nsamples;
        private Integer seqlen;
        private Integer batchSize;
        private long seed = 42;
        private Integer iters;
        private Double lr;
        private Double minmaxLr;
        private boolean enableMinmaxTuning = true;
        private boolean notUseBestMse;
        private int dynamicMaxGap = -1;
        private double momentum;
        private int gradientAccumulateSteps = 1;
        private boolean enableQuantedInput = true;
        private Boolean disableOptRtn;
        private boolean enableOptRtn;
        private boolean enableAdam;
        private String algorithm;
        /** Export formats; {@code null}: the default format an exporter declares. */
        private List<String> formats;
        private String outputDir = "./tmp_autoround";
        private String device = "cpu";
        private String modelDtype;
        private boolean lowGpuMemUsage;
        private boolean printConfig;
        private Long maxShardBytes;
        private boolean enableTorchCompile;
        private boolean disableTorchCompile;
        private boolean disableTrustRemoteCode;
        private boolean lowCpuMemUsage;
        private boolean disableLowCpuMemUsage;

        private Builder() {
        }

        /** Model id or local path; one trailing '/' is dropped (shell completion adds it to directories). */
        public Builder model(String model) {
            this.model = model != null && model.length() > 1 && model.endsWith("/") ? model.substring(0, model.length() - 1) : model;
            return this;
        }

        /** default, best, light, rtn or opt_rtn; {@code null} is the default recipe. */
        public Builder recipe(String name) { this.recipe = name; return this; }
        public Builder recipe(Recipe recipe) { this.recipe = recipe == null ? null : recipe.name(); return this; }
        public Builder scheme(String preset) { this.scheme = preset; return this; }
        public Builder bits(Integer bits) { this.bits = bits; return this; }
        public Builder groupSize(Integer groupSize) { this.groupSize = groupSize; return this; }
        public Builder sym(Boolean sym) { this.sym = sym; return this; }
        /** {@code --asym}: kept apart from {@link #sym} so that asking for both is refused, as the CLI does. */
        public Builder asym(boolean asym) { this.asym = asym; return this; }
        public Builder dataType(String dataType) { this.dataType = dataType; return this; }
        public Builder scaleDtype(String scaleDtype) { this.scaleDtype = scaleDtype; return this; }
        /** Activation bits (16 = not quantized); recorded in the scheme and the exported configs (docs/algorithms.md). */
        public Builder actBits(Integer actBits) { this.actBits = actBits; return this; }
        /** Activation group size: -1 per token, 0 per tensor, or a positive group; {@code null} follows the weights. */
        public Builder actGroupSize(Integer g) { this.actGroupSize = g; return this; }
        public Builder actSym(Boolean s) { this.actSym = s; return this; }
        public Builder actDataType(String d) { this.actDataType = d; return this; }
        /** Dynamic (per-call) activation scales; {@code false}: static, calibrated. {@code null}: dynamic. */
        public Builder actDynamic(Boolean d) { this.actDynamic = d; return this; }
        /** JSON or the relaxed {@code {k_proj:{bits:8}}} syntax of {@code --layer_config}. */
        public Builder layerConfig(String text) { this.layerConfigText = text; this.layerConfigMap = Map.of(); return this; }
        public Builder layerConfig(Map<String, Object> config) {
            this.layerConfigText = null;
            this.layerConfigMap = config == null ? Map.of() : new LinkedHashMap<>(config);
            return this;
        }
        public Builder ignoreLayers(String ignoreLayers) { this.ignoreLayers = ignoreLayers == null ? "" : ignoreLayers; return this; }
        public Builder quantLmHead(boolean q) { this.quantLmHead = q; return this; }
        /** Comma-separated regular expressions searched in block names; the other blocks stay full precision. */
        public Builder toQuantBlockNames(String names) { this.toQuantBlockNames = names; return this; }
        public Builder dataset(String spec) { this.dataset = spec; return this; }
        public Builder nsamples(Integer n) { this.nsamples = n; return this; }
        public Builder seqlen(Integer n) { this.seqlen = n; return this; }
        public Builder batchSize(Integer n) { this.batchSize = n; return this; }
        public Builder seed(long seed) { this.seed = seed; return this; }
        public Builder iters(Integer iters) { this.iters = iters; return this; }
        public Builder lr(Double lr) { this.lr = lr; return this; }
        public Builder minmaxLr(Double lr) { this.minmaxLr = lr; return this; }
        public Builder enableMinmaxTuning(boolean on) { this.enableMinmaxTuning = on; return this; }
        public Builder notUseBestMse(boolean on) { this.notUseBestMse = on; return this; }
        public Builder dynamicMaxGap(int gap) { this.dynamicMaxGap = gap; return this; }
        public Builder momentum(double momentum) { this.momentum = momentum; return this; }
        public Builder gradientAccumulateSteps(int n) { this.gradientAccumulateSteps = n; return this; }
        public Builder enableQuantedInput(boolean on) { this.enableQuantedInput = on; return this; }
        /** {@code true}: plain RTN when iters is 0; {@code false}: optimized RTN; {@code null}: the recipe decides. */
        public Builder disableOptRtn(Boolean on) { this.disableOptRtn = on; return this; }
        /** {@code --enable_opt_rtn}: refused together with {@code disableOptRtn(true)}, as the CLI does. */
        public Builder enableOptRtn(boolean on) { this.enableOptRtn = on; return this; }
        public Builder enableAdam(boolean on) { this.enableAdam = on; return this; }
        public Builder algorithm(String algorithm) { this.algorithm = algorithm; return this; }

        /** Comma-separated export formats, as {@code --format} takes them. */
        public Builder formats(String commaSeparated) {
            this.formats = commaSeparated == null ? null : List.of(commaSeparated.split(",", -1));
            return this;
        }

        public Builder formats(List<String> formats) {
            this.formats = formats == null ? null : Collections.unmodifiableList(new ArrayList<>(formats));
            return this;
        }

        public Builder outputDir(String dir) { this.outputDir = dir; return this; }
        public Builder device(String device) { this.device = device == null ? "cpu" : device; return this; }
        public Builder modelDtype(String dtype) { this.modelDtype = dtype; return this; }
        public Builder lowGpuMemUsage(boolean on) { this.lowGpuMemUsage = on; return this; }
        public Builder printConfig(boolean on) { this.printConfig = on; return this; }
        /** Safetensors shard limit in bytes; {@code null} for AutoRound's rule. */
        public Builder maxShardBytes(Long bytes) { this.maxShardBytes = bytes; return this; }

        // AutoRound options that cannot change anything in jround: accepted and announced by a notice.
        public Builder enableTorchCompile(boolean on) { this.enableTorchCompile = on; return this; }
        public Builder disableTorchCompile(boolean on) { this.disableTorchCompile = on; return this; }
        public Builder disableTrustRemoteCode(boolean on) { this.disableTrustRemoteCode = on; return this; }
        public Builder lowCpuMemUsage(boolean on) { this.lowCpuMemUsage = on; return this; }
        public Builder disableLowCpuMemUsage(boolean on) { this.disableLowCpuMemUsage = on; return this; }

        /**
         * Checks everything that needs no model and returns the request; a refusal is one
         * {@link InvalidInputException} naming the value and what is valid.
         */
        public QuantizeRequest build() {
            if (model == null || model.isBlank()) {
                throw new InvalidInputException("no model given", "pass a local model directory or a Hugging Face repo id: --model PATH_OR_ID");
            }
            Recipe r = Recipe.parse(recipe);
            if (asym && Boolean.TRUE.equals(sym)) {
                throw new InvalidInputException("--asym and --sym contradict each other", "give one of them");
            }
            if (actBits != null && (actBits <= 0 || (actBits > 16 && actBits != 32))) {
                // as for --bits: a typo such as 99 must not silently mean "not quantized"
                throw new InvalidInputException("--act_bits " + actBits + " is invalid", "act_bits are 2 to 8 (4 or 8 for the FP and MX types), or 16 to keep activations unquantized");
            }
            if (actGroupSize != null && actGroupSize < -1) {
                throw new InvalidInputException("--act_group_size " + actGroupSize + " is invalid",
                        "act_group_size is -1 (per token), 0 (per tensor) or a positive size such as 32 or 128");
            }
            Map<String, Object> layers = layerConfigText != null ? LayerConfigParser.parse(layerConfigText) : layerConfigMap;
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
            if (Boolean.TRUE.equals(disableOptRtn) && enableOptRtn) {
                throw new InvalidInputException("--disable_opt_rtn and --enable_opt_rtn are mutually exclusive", "give one of them");
            }
            List<String> fs = formats == null ? null : new ArrayList<>();
            for (String f : formats == null ? List.<String>of() : formats) {
                String k = f == null ? "" : f.toLowerCase(Locale.ROOT).replace(" ", "");
                if (!k.isEmpty() && !fs.contains(k)) {
                    fs.add(k);
                }
            }
            if (fs != null && fs.isEmpty()) {
                throw new InvalidInputException("--format is empty", "run 'jround list format' for the valid formats");
            }
            if (outputDir == null || outputDir.isBlank()) {
                throw new InvalidInputException("--output_dir is empty", "name the directory the quantized model goes under, e.g. ./tmp_autoround");
            }
            if (maxShardBytes != null && maxShardBytes <= 0) {
                throw new InvalidInputException("--max_shard_size must be a positive number of bytes, got " + maxShardBytes,
                        "for example --max_shard_size 2147483648 (2 GiB), or leave it out for AutoRound's rule");
            }
            if (enableTorchCompile && disableTorchCompile) {
                throw new InvalidInputException("--enable_torch_compile and --disable_torch_compile are mutually exclusive", "give one of them");
            }
            Builder normalized = copy();
            normalized.formats = fs == null ? null : List.copyOf(fs);
            return new QuantizeRequest(normalized, r, layers, notices());
        }

        /** Said once each instead of dropped silently. */
        private List<String> notices() {
            List<String> n = new ArrayList<>();
            String compile = enableTorchCompile ? "--enable_torch_compile" : disableTorchCompile ? "--disable_torch_compile" : null;
            if (compile != null) {
                n.add(compile + " has no effect: jround runs eager libtorch operations and has no graph compiler "
                        + "(the reference's compilation changes speed only, not results)");
            }
            if (disableTrustRemoteCode) {
                n.add("--disable_trust_remote_code has no effect: jround never runs model-repository code "
                        + "(architectures are installed plugins)");
            }
            if (lowCpuMemUsage) {
                n.add("--low_cpu_mem_usage has no effect: the low-CPU-memory mode is always on "
                        + "(weights are memory-mapped, finished layers streamed to the outputs)");
            }
            if (disableLowCpuMemUsage) {
                n.add("--disable_low_cpu_mem_usage has no effect: jround always memory-maps the weights and streams "
                        + "finished layers to the outputs (turning that off would only use more memory)");
            }
            return n;
        }

        private static void positive(String flag, Integer v) {
            if (v != null && v <= 0) {
                throw new InvalidInputException(flag + " must be a positive integer, got " + v, "for example " + flag + " 128");
            }
        }

        // every field is immutable or replaced wholesale by its setter, so a shallow copy is independent
        private Builder copy() {
            try {
                return (Builder) clone();
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
