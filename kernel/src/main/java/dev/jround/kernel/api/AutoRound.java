package dev.jround.kernel.api;

import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.quant.ProgressListener;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The Java API, shaped like AutoRound's Python one:
 * <pre>{@code
 * AutoRound ar = AutoRound.builder(modelIdOrPath).scheme(preset).iters(200).build();
 * ar.quantizeAndSave(Path.of("out"), formats);   // e.g. the names 'jround list format' prints
 * }</pre>
 * Every setter maps to the AutoRound parameter of the same name; unset values take the recipe's and
 * the scheme's defaults, and no format given means the format an installed exporter declares as the default.
 */
public final class AutoRound {

    private final QuantizeRequest request;
    private final PluginRegistry registry;
    private final ProgressListener progress;

    private AutoRound(QuantizeRequest request, PluginRegistry registry, ProgressListener progress) {
        this.request = request;
        this.registry = registry;
        this.progress = progress;
    }

    public static Builder builder(String model) {
        return new Builder().model(model);
    }

    /** A builder without a model yet: give one with {@link Builder#model}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The checked request this instance runs. */
    public QuantizeRequest request() {
        return request;
    }

    /** Quantizes and writes the given formats (none: the built ones) under {@code outputDir}; returns the run's result. */
    public QuantizationJob.Result quantizeAndSave(Path outputDir, String... formats) {
        QuantizeRequest.Builder b = request.toBuilder().outputDir(outputDir.toString());
        if (formats.length > 0) {
            b.formats(Arrays.asList(formats));
        }
        return new QuantizationJob(registry, progress).run(b.build());
    }

    /**
     * Fluent construction; names follow AutoRound's keyword arguments. Every value goes to
     * {@link QuantizeRequest.Builder}, whose checks {@link #build()} runs: the same as the CLI's, with the same messages.
     */
    public static final class Builder {
        private final QuantizeRequest.Builder r = QuantizeRequest.builder();
        private PluginRegistry registry;
        private ProgressListener progress = ProgressListener.NONE;

        Builder() {
        }

        public Builder model(String model) { r.model(model); return this; }
        public Builder recipe(String name) { r.recipe(name); return this; }
        public Builder scheme(String preset) { r.scheme(preset); return this; }
        public Builder bits(int bits) { r.bits(bits); return this; }
        public Builder groupSize(int groupSize) { r.groupSize(groupSize); return this; }
        public Builder sym(boolean sym) { r.sym(sym); return this; }
        public Builder asym(boolean asym) { r.asym(asym); return this; }
        public Builder dataType(String dataType) { r.dataType(dataType); return this; }
        public Builder scaleDtype(String scaleDtype) { r.scaleDtype(scaleDtype); return this; }
        public Builder actBits(int actBits) { r.actBits(actBits); return this; }
        public Builder actGroupSize(int actGroupSize) { r.actGroupSize(actGroupSize); return this; }
        public Builder actSym(boolean actSym) { r.actSym(actSym); return this; }
        public Builder actDataType(String actDataType) { r.actDataType(actDataType); return this; }
        public Builder actDynamic(boolean actDynamic) { r.actDynamic(actDynamic); return this; }
        public Builder layerConfig(Map<String, Object> layerConfig) { r.layerConfig(layerConfig); return this; }
        /** The {@code --layer_config} text: JSON or {@code {k_proj:{bits:8}}}. */
        public Builder layerConfig(String layerConfig) { r.layerConfig(layerConfig); return this; }
        public Builder ignoreLayers(String ignoreLayers) { r.ignoreLayers(ignoreLayers); return this; }
        public Builder quantLmHead(boolean q) { r.quantLmHead(q); return this; }
        /** Comma-separated regular expressions searched in block names; the other blocks stay full precision. */
        public Builder toQuantBlockNames(String names) { r.toQuantBlockNames(names); return this; }
        public Builder dataset(String spec) { r.dataset(spec); return this; }
        public Builder nsamples(int n) { r.nsamples(n); return this; }
        public Builder seqlen(int n) { r.seqlen(n); return this; }
        public Builder batchSize(int n) { r.batchSize(n); return this; }
        public Builder seed(long seed) { r.seed(seed); return this; }
        public Builder iters(int iters) { r.iters(iters); return this; }
        public Builder lr(double lr) { r.lr(lr); return this; }
        public Builder minmaxLr(double lr) { r.minmaxLr(lr); return this; }
        public Builder momentum(double momentum) { r.momentum(momentum); return this; }
        public Builder enableMinmaxTuning(boolean on) { r.enableMinmaxTuning(on); return this; }
        public Builder enableQuantedInput(boolean on) { r.enableQuantedInput(on); return this; }
        public Builder notUseBestMse(boolean on) { r.notUseBestMse(on); return this; }
        public Builder gradientAccumulateSteps(int n) { r.gradientAccumulateSteps(n); return this; }
        public Builder dynamicMaxGap(int gap) { r.dynamicMaxGap(gap); return this; }
        public Builder disableOptRtn(boolean on) { r.disableOptRtn(on); return this; }
        public Builder enableOptRtn(boolean on) { r.enableOptRtn(on); return this; }
        public Builder enableAdam(boolean on) { r.enableAdam(on); return this; }
        public Builder algorithm(String algorithm) { r.algorithm(algorithm); return this; }
        public Builder lowGpuMemUsage(boolean on) { r.lowGpuMemUsage(on); return this; }
        public Builder device(String device) { r.device(device); return this; }
        public Builder modelDtype(String dtype) { r.modelDtype(dtype); return this; }
        public Builder formats(List<String> formats) { r.formats(formats); return this; }
        /** Comma-separated, as {@code --format} takes them. */
        public Builder formats(String formats) { r.formats(formats); return this; }
        public Builder outputDir(String dir) { r.outputDir(dir); return this; }
        public Builder maxShardBytes(long bytes) { r.maxShardBytes(bytes); return this; }
        public Builder printConfig(boolean on) { r.printConfig(on); return this; }
        public Builder enableTorchCompile(boolean on) { r.enableTorchCompile(on); return this; }
        public Builder registry(PluginRegistry registry) { this.registry = registry; return this; }
        public Builder progress(ProgressListener progress) { this.progress = progress; return this; }

        /** Checks every value (an {@link dev.jround.spi.InvalidInputException} names the first bad one). */
        public AutoRound build() {
            QuantizeRequest request = r.build();
            return new AutoRound(request, registry != null ? registry : new ServiceLoaderRegistry(AutoRound.class.getClassLoader()), progress);
        }
    }
}
