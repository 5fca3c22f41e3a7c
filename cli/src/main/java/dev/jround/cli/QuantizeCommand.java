package dev.jround.cli;

import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.job.Recipe;
import dev.jround.spi.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jround quantize} with AutoRound's flag names and aliases, so its users' command lines work
 * unchanged. Values left out are filled by the recipe ({@code -Djround.recipe}, set by the
 * auto-round-best / auto-round-light launchers) and then by the scheme.
 */
@Command(name = "quantize", description = "Quantize a model (AutoRound-compatible flags).", sortOptions = false)
public final class QuantizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "Model id or local path (wins over --model).")
    String positionalModel;

    @Option(names = {"--model", "--model_name", "--model_name_or_path"}, description = "Model id or local path.")
    String model;

    @Option(names = "--recipe", description = "default, best, light, rtn, opt_rtn (the launchers set it).")
    String recipe;

    @Option(names = "--scheme", description = "Scheme preset (W4A16, W2A16G32, W3A16, W8A16, BF16, ...). Default W4A16.")
    String scheme;

    @Option(names = "--bits", description = "Weight bits override.")
    Integer bits;

    @Option(names = "--group_size", description = "Group size override: -1 per channel, 0 per tensor.")
    Integer groupSize;

    @Option(names = "--asym", description = "Asymmetric weights.")
    boolean asym;

    @Option(names = "--sym", description = "Symmetric weights (explicit).")
    boolean symFlag;

    @Option(names = {"--data_type", "--dtype"}, description = "Weight data type override (int, ...).")
    String dataType;

    @Option(names = "--scale_dtype", description = "fp16, float16, bf16, bfloat16, fp32, float32.")
    String scaleDtype;

    @Option(names = "--act_bits", description = "Activation bits (only 16 is supported: weight-only).")
    Integer actBits;

    @Option(names = {"--ignore_layers", "--fp_layers"}, description = "Comma-separated names/patterns kept in full precision.")
    String ignoreLayers;

    @Option(names = "--quant_lm_head", negatable = true, description = "Quantize the lm_head.")
    boolean quantLmHead;

    @Option(names = "--layer_config", description = "Per-layer overrides, JSON or {k_proj:{bits:8}}.")
    String layerConfig;

    @Option(names = "--to_quant_block_names", description = "Comma-separated regexes selecting blocks.")
    String toQuantBlockNames;

    @Option(names = "--dataset", description = "Calibration dataset spec (see docs/datasets.md).")
    String dataset;

    @Option(names = {"--nsamples", "--nsample"}, description = "Calibration samples (recipe default 128).")
    Integer nsamples;

    @Option(names = {"--seqlen", "--seq_len"}, description = "Calibration sequence length (recipe default 2048, clamped to the model context).")
    Integer seqlen;

    @Option(names = {"--batch_size", "--train_bs", "--bs"}, description = "Tuning batch size (default 8).")
    Integer batchSize;

    @Option(names = "--seed", description = "Random seed (default 42).")
    Long seed;

    @Option(names = {"--iters", "--iter"}, description = "Tuning iterations per block; 0 = RTN (recipe default 200).")
    Integer iters;

    @Option(names = "--lr", description = "Rounding learning rate (default 1/iters).")
    Double lr;

    @Option(names = "--minmax_lr", description = "Min/max learning rate (default = lr).")
    Double minmaxLr;

    @Option(names = "--momentum", description = "Sign-SGD momentum (default 0).")
    Double momentum;

    @Option(names = "--gradient_accumulate_steps", description = "Mini-batches per step (default 1).")
    Integer gradientAccumulateSteps;

    @Option(names = {"--enable_minmax_tuning"}, negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Tune the min/max scales (default on).")
    boolean enableMinmaxTuning = true;

    @Option(names = "--disable_minmax_tuning", description = "Do not tune min/max scales.")
    boolean disableMinmaxTuning;

    @Option(names = "--not_use_best_mse", negatable = true, description = "Keep last-iteration parameters instead of the best.")
    boolean notUseBestMse;

    @Option(names = "--enable_quanted_input", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Feed quantized block outputs forward (default on).")
    boolean enableQuantedInput = true;

    @Option(names = "--disable_quanted_input", description = "Tune every block on full-precision inputs.")
    boolean disableQuantedInput;

    @Option(names = {"--enable_adam", "--adam"}, negatable = true, description = "AdamW instead of signed gradient descent.")
    boolean enableAdam;

    @Option(names = "--disable_opt_rtn", description = "Plain RTN when iters is 0.")
    boolean disableOptRtn;

    @Option(names = "--enable_opt_rtn", description = "Optimized RTN when iters is 0.")
    boolean enableOptRtn;

    @Option(names = {"--algorithm", "--algorithms", "--alg", "--algs"}, description = "auto_round (signround) or rtn.")
    String algorithm;

    @Option(names = {"--format", "--formats"}, description = "Comma-separated export formats (default auto_round).")
    String format;

    @Option(names = "--output_dir", description = "Base output directory (default ./tmp_autoround).")
    String outputDir;

    @Option(names = {"--device_map", "--device", "--devices"}, description = "One device: 0 or auto (the best available), cpu or a backend name.")
    String device;

    @Option(names = "--model_dtype", description = "Dtype to compute in: fp32 (default) or bf16.")
    String modelDtype;

    @Option(names = "--low_gpu_mem_usage", description = "Keep cached block inputs on the host (always so on the cpu device; recorded in the config).")
    boolean lowGpuMemUsage;

    @Option(names = "--low_cpu_mem_usage", description = "No effect (prints a notice): the low-memory mode is always on.")
    boolean lowCpuMemUsage;

    @Option(names = "--disable_low_cpu_mem_usage", description = "No effect (prints a notice): weights stay memory-mapped, outputs streamed.")
    boolean disableLowCpuMemUsage;

    @Option(names = "--enable_torch_compile", description = "No effect (prints a notice): jround has no graph compiler.")
    boolean enableTorchCompile;

    @Option(names = "--disable_torch_compile", description = "No effect (prints a notice): jround has no graph compiler.")
    boolean disableTorchCompile;

    @Option(names = "--disable_trust_remote_code", description = "No effect (prints a notice): jround never runs repository code.")
    boolean disableTrustRemoteCode;

    @Option(names = "--print_config", description = "Print the resolved scheme of every layer before work starts.")
    boolean printConfig;

    @Option(names = "--max_shard_size", description = "Safetensors shard size limit in bytes (default: AutoRound's rule).")
    Long maxShardSize;

    @Option(names = "--verbose", description = "Stack traces on errors.")
    boolean verbose;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    @Override
    public Integer call() {
        if (verbose) {
            System.setProperty("jround.verbose", "true");
        }
        QuantizeRequest r = toRequest();
        QuantizationJob.Result result = new QuantizationJob(JroundCli.registry(), new ConsoleProgress(spec.commandLine().getErr()))
                .run(r);
        result.printSummary(spec.commandLine().getOut());
        return 0;
    }

    QuantizeRequest toRequest() {
        QuantizeRequest r = new QuantizeRequest();
        r.model = positionalModel != null ? positionalModel : model;
        if (r.model == null) {
            throw new InvalidInputException("no model given", "pass a local model directory or a Hugging Face repo id: --model PATH_OR_ID");
        }
        if (r.model.length() > 1 && r.model.endsWith("/")) {
            r.model = r.model.substring(0, r.model.length() - 1);
        }
        r.recipe = Recipe.parse(recipe != null ? recipe : System.getProperty("jround.recipe"));
        if (scheme != null) {
            r.scheme = scheme;
        }
        r.bits = bits;
        r.groupSize = groupSize;
        if (asym && symFlag) {
            throw new InvalidInputException("--asym and --sym contradict each other", "give one of them");
        }
        r.sym = asym ? Boolean.FALSE : symFlag ? Boolean.TRUE : null;
        r.dataType = dataType;
        r.scaleDtype = scaleDtype;
        if (actBits != null && actBits != 16) {
            throw new InvalidInputException("--act_bits " + actBits + " is not supported: jround quantizes weights only (16 = unquantized activations)",
                    "use --act_bits 16 or leave it out");
        }
        if (ignoreLayers != null) {
            r.ignoreLayers = ignoreLayers;
        }
        r.quantLmHead = quantLmHead;
        if (layerConfig != null) {
            r.layerConfig = dev.jround.kernel.config.LayerConfigParser.parse(layerConfig);
        }
        r.toQuantBlockNames = toQuantBlockNames;
        r.dataset = dataset;
        r.nsamples = positive("--nsamples", nsamples);
        r.seqlen = positive("--seqlen", seqlen);
        r.batchSize = positive("--batch_size", batchSize);
        if (seed != null) {
            r.seed = seed;
        }
        r.iters = iters;
        r.lr = lr;
        r.minmaxLr = minmaxLr;
        if (momentum != null) {
            r.momentum = momentum;
        }
        if (gradientAccumulateSteps != null) {
            r.gradientAccumulateSteps = positive("--gradient_accumulate_steps", gradientAccumulateSteps);
        }
        r.enableMinmaxTuning = enableMinmaxTuning && !disableMinmaxTuning;
        r.notUseBestMse = notUseBestMse;
        r.enableQuantedInput = enableQuantedInput && !disableQuantedInput;
        r.enableAdam = enableAdam;
        if (disableOptRtn && enableOptRtn) {
            throw new InvalidInputException("--disable_opt_rtn and --enable_opt_rtn are mutually exclusive", "give one of them");
        }
        r.disableOptRtn = disableOptRtn ? Boolean.TRUE : enableOptRtn ? Boolean.FALSE : null;
        r.algorithm = algorithm;
        if (format != null) {
            List<String> fs = new ArrayList<>();
            for (String f : format.toLowerCase().replace(" ", "").split(",")) {
                if (!f.isEmpty() && !fs.contains(f)) {
                    fs.add(f);
                }
            }
            if (fs.isEmpty()) {
                throw new InvalidInputException("--format is empty", "run 'jround list format' for the valid formats");
            }
            r.formats = fs;
        }
        if (outputDir != null) {
            r.outputDir = outputDir;
        }
        if (device != null) {
            r.device = device;
        }
        r.modelDtype = modelDtype;
        r.lowGpuMemUsage = lowGpuMemUsage;
        r.printConfig = printConfig;
        if (maxShardSize != null) {
            if (maxShardSize <= 0) {
                throw new InvalidInputException("--max_shard_size must be a positive number of bytes, got " + maxShardSize,
                        "for example --max_shard_size 2147483648 (2 GiB), or leave it out for AutoRound's rule");
            }
            r.maxShardBytes = maxShardSize;
        }
        compatibilityNotices(r);
        return r;
    }

    /** AutoRound flags that cannot change anything in jround: said once each instead of dropped silently. */
    private void compatibilityNotices(QuantizeRequest r) {
        if (enableTorchCompile && disableTorchCompile) {
            throw new InvalidInputException("--enable_torch_compile and --disable_torch_compile are mutually exclusive", "give one of them");
        }
        String compile = enableTorchCompile ? "--enable_torch_compile" : disableTorchCompile ? "--disable_torch_compile" : null;
        if (compile != null) {
            r.notices.add(compile + " has no effect: jround runs eager libtorch operations and has no graph compiler "
                    + "(the reference's compilation changes speed only, not results)");
        }
        if (disableTrustRemoteCode) {
            r.notices.add("--disable_trust_remote_code has no effect: jround never runs model-repository code "
                    + "(architectures are installed plugins)");
        }
        if (lowCpuMemUsage) {
            r.notices.add("--low_cpu_mem_usage has no effect: the low-CPU-memory mode is always on "
                    + "(weights are memory-mapped, finished layers streamed to the outputs)");
        }
        if (disableLowCpuMemUsage) {
            r.notices.add("--disable_low_cpu_mem_usage has no effect: jround always memory-maps the weights and streams "
                    + "finished layers to the outputs (turning that off would only use more memory)");
        }
    }

    private static Integer positive(String flag, Integer v) {
        if (v != null && v <= 0) {
            throw new InvalidInputException(flag + " must be a positive integer, got " + v, "for example " + flag + " 128");
        }
        return v;
    }

    /** AutoRound's router: no sub-command but flags means quantize; {@code --list}/{@code --eval} anywhere route to those. */
    static String[] route(String[] args, java.util.Set<String> subcommands) {
        if (args.length == 0) {
            return args;
        }
        if (subcommands.contains(args[0]) || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")
                || args[0].equals("--version") || args[0].equals("-V")) {
            return args;
        }
        List<String> a = new ArrayList<>(Arrays.asList(args));
        if (a.remove("--list")) {
            a.add(0, "list");
        } else if (a.remove("--eval")) {
            a.add(0, "eval");
        } else {
            a.add(0, "quantize");
        }
        return a.toArray(new String[0]);
    }
}
