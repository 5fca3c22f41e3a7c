package dev.jround.cli;

import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.spi.InvalidInputException;
import picocli.CommandLine;
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

    @Option(names = {"--data_type", "--dtype"}, description = "Weight data type override (int, mx_fp, mx_int, nv_fp, fp, mx_fp4, fp8, ...).")
    String dataType;

    @Option(names = "--scale_dtype", description = "fp16, float16, bf16, bfloat16, fp32, float32.")
    String scaleDtype;

    @Option(names = "--act_bits", description = "Activation bits (16 = not quantized).")
    Integer actBits;

    @Option(names = "--act_group_size", description = "Activation group size: -1 per token, 0 per tensor (default: the weights').")
    Integer actGroupSize;

    @Option(names = "--act_sym", arity = "0..1", fallbackValue = "true", description = "Symmetric activations (default: the weights').")
    Boolean actSym;

    @Option(names = "--act_data_type", description = "Activation data type (default: the weights' when act_bits < 16).")
    String actDataType;

    @Option(names = "--act_dynamic", arity = "0..1", fallbackValue = "true", description = "Dynamic activation scales (default true; false: static, calibrated).")
    Boolean actDynamic;

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

    /**
     * The request {@code jround quantize ARGS} would run, refused exactly as the CLI refuses it: an unparsable flag
     * with picocli's first message line and the CLI's hint, a bad value by {@link QuantizeRequest.Builder#build()}.
     * For callers that take the CLI's flags from elsewhere (the host's job API, docs/host.md).
     */
    public static QuantizeRequest parse(List<String> args) {
        QuantizeCommand command = new QuantizeCommand();
        CommandLine cl = JroundCli.parsingRules(new CommandLine(command));
        cl.setCommandName("jround quantize");
        try {
            CommandLine.ParseResult parsed = cl.parseArgs(args.toArray(new String[0]));
            if (parsed.isUsageHelpRequested()) {
                throw new InvalidInputException("--help asks for the usage text, not a job", "run 'jround quantize --help' for the flags");
            }
        } catch (CommandLine.ParameterException e) {
            throw new InvalidInputException(e.getMessage().lines().findFirst().orElse(""), JroundCli.usageHint(cl));
        }
        return command.toRequest();
    }

    /** Maps the flags to builder calls only: every check lives in {@link QuantizeRequest.Builder#build()}, shared with the Java API. */
    QuantizeRequest toRequest() {
        QuantizeRequest.Builder b = QuantizeRequest.builder()
                .model(positionalModel != null ? positionalModel : model)
                .recipe(recipe != null ? recipe : System.getProperty("jround.recipe"))
                .scheme(scheme)
                .bits(bits)
                .groupSize(groupSize)
                .sym(symFlag ? Boolean.TRUE : null)
                .asym(asym)
                .dataType(dataType)
                .scaleDtype(scaleDtype)
                .actBits(actBits)
                .actGroupSize(actGroupSize)
                .actSym(actSym)
                .actDataType(actDataType)
                .actDynamic(actDynamic)
                .ignoreLayers(ignoreLayers)
                .quantLmHead(quantLmHead)
                .toQuantBlockNames(toQuantBlockNames)
                .dataset(dataset)
                .nsamples(nsamples)
                .seqlen(seqlen)
                .batchSize(batchSize)
                .iters(iters)
                .lr(lr)
                .minmaxLr(minmaxLr)
                .enableMinmaxTuning(enableMinmaxTuning && !disableMinmaxTuning)
                .notUseBestMse(notUseBestMse)
                .enableQuantedInput(enableQuantedInput && !disableQuantedInput)
                .enableAdam(enableAdam)
                .disableOptRtn(disableOptRtn ? Boolean.TRUE : null)
                .enableOptRtn(enableOptRtn)
                .algorithm(algorithm)
                .formats(format)
                .device(device)
                .modelDtype(modelDtype)
                .lowGpuMemUsage(lowGpuMemUsage)
                .printConfig(printConfig)
                .maxShardBytes(maxShardSize)
                .enableTorchCompile(enableTorchCompile)
                .disableTorchCompile(disableTorchCompile)
                .disableTrustRemoteCode(disableTrustRemoteCode)
                .lowCpuMemUsage(lowCpuMemUsage)
                .disableLowCpuMemUsage(disableLowCpuMemUsage);
        if (layerConfig != null) {
            b.layerConfig(layerConfig);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (momentum != null) {
            b.momentum(momentum);
        }
        if (gradientAccumulateSteps != null) {
            b.gradientAccumulateSteps(gradientAccumulateSteps);
        }
        if (outputDir != null) {
            b.outputDir(outputDir);
        }
        return b.build();
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
