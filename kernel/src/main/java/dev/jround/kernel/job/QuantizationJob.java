package dev.jround.kernel.job;

import ai.djl.ndarray.NDManager;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.output.OutputTarget;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.LinearWeightSource;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.TuningOptions;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One quantization run, as design.md describes it: resolve, open, calibrate, quantize block by block
 * while streaming finished layers to every requested exporter, then finish each export and move it
 * into place atomically. The job knows plugins only through their SPIs.
 */
public final class QuantizationJob {

    private final PluginRegistry registry;
    private final ProgressListener progress;

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

    public Result run(QuantizeRequest r) {
        long t0 = System.nanoTime();
        if (r.formats() == null) {
            // no --format: the format an exporter declares as the default (AutoRound's auto_round)
            r = r.toBuilder().formats(List.of(defaultFormat())).build();
        }
        List<Exporter> exporters = new ArrayList<>();
        for (String f : r.formats()) {
            exporters.add(exporterFor(f));
        }
        r.notices().forEach(progress::message);
        LoadedModel model = JobModel.open(registry, r);
        try (model) {
            CausalLM lm = model.lm();
            if (r.lowGpuMemUsage()) {
                lowGpuMemUsage(model.device().deviceName());
            }
            SchemeSetup setup = SchemeSetup.resolve(registry, r, lm, model.config(), progress);
            List<LayerSpec> specs = setup.layers();
            // the architecture's tensor roles and facts, for exporters that map roles (GGUF)
            TensorLayout layout = new dev.jround.kernel.model.ModelLoader(registry).architectureFor(model.config())
                    .tensorLayout(model.config()).orElse(null);
            // Refuse impossible combinations before any work (the exporter's own reasons).
            for (int i = 0; i < exporters.size(); i++) {
                Exporter ex = exporters.get(i);
                String fmt = r.formats().get(i);
                var modelWhy = ex.modelRefusal(fmt, layout);
                if (modelWhy.isPresent()) {
                    throw new UnsupportedFeatureException("format " + fmt + " cannot store " + r.model()
                            + ": " + modelWhy.get(), "run 'jround list format', or choose another --format");
                }
                for (LayerSpec s : specs) {
                    var why = ex.refusal(fmt, s);
                    if (why.isPresent()) {
                        String reason = why.get().contains(s.name()) ? why.get() : "layer " + s.name() + " (" + s.scheme() + "): " + why.get();
                        throw new UnsupportedFeatureException("format " + fmt + " cannot store " + reason,
                                "run 'jround list format' for what each format accepts, or choose another --format / --scheme");
                    }
                }
                boolean lmHeadQuantized = specs.stream().anyMatch(s -> s.blockIndex() < 0 && s.quantized());
                if (lmHeadQuantized && !ex.acceptsQuantizedLmHead(fmt)) {
                    throw new InvalidInputException("--quant_lm_head is not supported by format " + fmt,
                            "run 'jround list format'; " + lmHeadFormats() + " store a quantized lm_head");
                }
            }
            // NaN or Inf weights would be written as NaN/Inf scales: refuse them before calibration starts.
            dev.jround.kernel.model.CheckpointAudit.finite(model.weights());
            if (r.printConfig()) {
                progress.message(setup.table());
            }
            AlgorithmChoice choice = AlgorithmChoice.resolve(r, setup.scheme(), setup.presetTraits(),
                    registry.all(QuantAlgorithm.class));
            QuantAlgorithm algorithm = choice.plugin();
            dev.jround.kernel.model.DeviceCheck.algorithm(model.device(), algorithm, choice.role());
            Function<QuantScheme, QuantDataType> dataTypes = dataTypeLookup();
            for (LayerSpec s : specs) {
                if (s.quantized()) {
                    dataTypes.apply(s.scheme());
                }
            }
            TuningOptions options = new TuningOptions(r.effectiveIters(), r.effectiveLr(), r.minmaxLr(),
                    r.effectiveBatchSize(), r.gradientAccumulateSteps(), r.enableMinmaxTuning(), r.notUseBestMse(),
                    r.dynamicMaxGap(), r.momentum(), r.enableQuantedInput(), choice.disableOptRtn(), r.seed());

            // Claim the output before any work: refuses overlaps with the inputs and outputs jround did not
            // write, and recovers a replacement a killed run left half done.
            Path runDir = OutputLayout.runDirectory(Path.of(r.outputDir()), r.model(), setup.scheme(), runDirectorySuffix(exporters, r.formats()));
            OutputTarget target = OutputTarget.claim(runDir, inputs(r, model), true, "quantize", progress::message);

            // Calibration data, only when the algorithm needs it.
            List<long[]> samples = List.of();
            String datasetUsed = "none";
            if (choice.needsData() && algorithm.needsCalibration()) {
                JobCalibration calib = JobCalibration.prepare(registry, r, model, progress);
                samples = calib.samples();
                datasetUsed = calib.description();
            }

            // Outputs: <run>.partial/<format>/..., swapped in as <run> when every format finished.
            Path partial = target.prepare();
            List<ExportSession> sessions = new ArrayList<>();
            List<Path> outputs = new ArrayList<>();
            boolean ok = false;
            try {
                Map<String, Object> runOptions = runOptions(r, choice, datasetUsed, samples.size(), setup.scheme());
                for (int i = 0; i < exporters.size(); i++) {
                    String fmt = r.formats().get(i);
                    Path dir = OutputLayout.formatDirectory(partial, fmt, exporters.size());
                    Files.createDirectories(dir);
                    outputs.add(OutputLayout.formatDirectory(runDir, fmt, exporters.size()));
                    sessions.add(exporters.get(i).open(new ExportContext(fmt, dir, model.config(), model.source(),
                            model.weights(), specs, setup.blockPrefixes(), runOptions, shardLimit(r, model), layout, model.tokenizer())));
                }
                Set<String> written = new HashSet<>();
                int[] quantizedCount = {0};
                java.util.function.Consumer<QuantizedLayer> sink = q -> {
                    // Biases travel as plain tensors (addTensor) so that no exporter sees them twice.
                    QuantizedLayer layer = q.bias() == null ? q
                            : new QuantizedLayer(q.spec(), q.groupSize(), q.codes(), q.scales(), q.zeros(), q.dequantized(), null, q.extra());
                    for (ExportSession s : sessions) {
                        s.addQuantized(layer);
                    }
                    written.add(q.name() + ".weight");
                    quantizedCount[0]++;
                };
                List<BlockPipeline.BlockStat> stats;
                try (NDManager root = model.device().newManager()) {
                    BlockPipeline pipeline = new BlockPipeline(lm, algorithm, dataTypes, options, progress,
                            algorithm.collectsImportanceMatrix());
                    stats = pipeline.run(root, specs, samples, JobModel.padTokenId(model), sink, block -> {
                        for (ExportSession s : sessions) {
                            s.blockFinished(block);
                        }
                    });
                    // Layers outside the blocks (lm_head) are quantized with RTN from their weights.
                    for (LayerSpec s : specs) {
                        if (s.blockIndex() < 0 && s.quantized()) {
                            LinearWeightSource w = LinearWeightSource.of(lm, root);
                            sink.accept(dataTypes.apply(s.scheme()).quantize(s, w.linearWeight(s.name()), null, null, null, null,
                                    null, !choice.disableOptRtn()));
                        }
                    }
                }
                // Every other checkpoint tensor goes out as it is, streamed from the memory-mapped source.
                for (String name : model.weights().names()) {
                    if (!written.contains(name)) {
                        var t = model.weights().get(name);
                        for (ExportSession s : sessions) {
                            s.addTensor(name, t);
                        }
                    }
                }
                for (ExportSession s : sessions) {
                    s.finish();
                }
                target.commit();
                ok = true;
                double secs = (System.nanoTime() - t0) / 1e9;
                int skipped = (int) specs.stream().filter(s -> !s.quantized()).count();
                RunSummary summary = new RunSummary(outputs, choice.algorithm(), datasetUsed, samples.size(), quantizedCount[0],
                        skipped, stats, secs, peakHeap(), peakRss());
                return new Result(summary, specs);
            } catch (java.io.IOException e) {
                throw new JroundException("cannot write " + partial + ": " + e.getMessage(), "check free space and permissions", e);
            } finally {
                if (!ok) {
                    for (ExportSession s : sessions) {
                        try {
                            s.abort();
                        } catch (RuntimeException ignored) {
                            // the partial directory is removed below anyway
                        }
                    }
                    target.discard();
                }
                for (ExportSession s : sessions) {
                    s.close();
                }
            }
        }
    }

    /** What the run reads: the model directory and local calibration files named in the dataset spec. */
    private static List<Path> inputs(QuantizeRequest r, LoadedModel model) {
        List<Path> in = new ArrayList<>();
        in.add(model.source());
        if (r.dataset() != null) {
            for (String entry : r.dataset().split(",")) {
                String name = entry.split(":", 2)[0].trim();
                try {
                    if (!name.isEmpty() && Files.exists(Path.of(name))) {
                        in.add(Path.of(name));
                    }
                } catch (java.nio.file.InvalidPathException ignored) {
                    // a hub dataset id, not a path
                }
            }
        }
        return in;
    }

    /** The first format whose exporter names the run directory itself (AutoRound: any GGUF format), if any. */
    private static java.util.Optional<String> runDirectorySuffix(List<Exporter> exporters, List<String> formats) {
        for (int i = 0; i < exporters.size(); i++) {
            var suffix = exporters.get(i).runDirectorySuffix(formats.get(i));
            if (suffix.isPresent()) {
                return suffix;
            }
        }
        return java.util.Optional.empty();
    }

    /** The format of a run without --format: the first an installed exporter declares as the default. */
    private String defaultFormat() {
        for (Exporter e : registry.all(Exporter.class)) {
            for (String f : e.formats()) {
                if (e.isDefault(f)) {
                    return f;
                }
            }
        }
        throw new InvalidInputException("no installed exporter declares a default format",
                "give --format; run 'jround list format' for the valid formats");
    }

    /** The installed formats that store a quantized lm_head, for the --quant_lm_head hint. */
    private String lmHeadFormats() {
        List<String> out = new ArrayList<>();
        for (Exporter e : registry.all(Exporter.class)) {
            e.formats().stream().filter(e::acceptsQuantizedLmHead).forEach(out::add);
        }
        out.sort(null);
        return out.isEmpty() ? "no installed format can" : String.join(", ", out);
    }

    private Exporter exporterFor(String format) {
        String f = format.toLowerCase(Locale.ROOT).trim();
        List<String> all = new ArrayList<>();
        for (Exporter e : registry.all(Exporter.class)) {
            for (String name : e.formats()) {
                if (name.equalsIgnoreCase(f)) {
                    return e;
                }
                all.add(name);
            }
        }
        all.sort(null);
        throw new InvalidInputException("unknown format '" + format + "'", "valid formats: " + String.join(", ", all));
    }

    private Function<QuantScheme, QuantDataType> dataTypeLookup() {
        List<QuantDataType> types = registry.all(QuantDataType.class);
        Map<QuantScheme, QuantDataType> cache = new LinkedHashMap<>();
        return scheme -> cache.computeIfAbsent(scheme, s -> types.stream().filter(t -> t.supports(s)).findFirst()
                .orElseThrow(() -> new UnsupportedFeatureException("no data-type plugin supports " + s,
                        "installed data types: " + types.stream().map(t -> t.descriptor().id()).toList())));
    }

    private static long shardLimit(QuantizeRequest r, LoadedModel model) {
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

    /**
     * AutoRound's low_gpu_mem_usage keeps cached block inputs, reference outputs and best-parameter snapshots in host
     * memory (algorithm spec 4.2). On the cpu backend they live there already, so the flag holds by construction; a
     * backend with its own device memory would need the placement switch, which jround does not have: refused.
     */
    private void lowGpuMemUsage(String device) {
        if (!"cpu".equalsIgnoreCase(device)) {
            throw new UnsupportedFeatureException("--low_gpu_mem_usage is not implemented for the " + device + " device backend",
                    "leave it out, or run on the cpu backend (--device_map cpu), where block data already lives in host memory");
        }
        progress.message("--low_gpu_mem_usage: on the cpu device block inputs, reference outputs and best-parameter snapshots "
                + "already live in host memory; recorded as low_gpu_mem_usage: true in quantization_config");
    }

    private static Map<String, Object> runOptions(QuantizeRequest r, AlgorithmChoice c, String dataset, int samples,
                                                  QuantScheme scheme) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("iters", r.effectiveIters());
        m.put("lr", r.effectiveLr());
        m.put("minmax_lr", r.minmaxLr());
        m.put("nsamples", r.effectiveNsamples());
        m.put("samples_used", samples);
        m.put("seqlen", r.effectiveSeqlen());
        m.put("batch_size", r.effectiveBatchSize());
        m.put("gradient_accumulate_steps", r.gradientAccumulateSteps());
        m.put("enable_minmax_tuning", r.enableMinmaxTuning());
        m.put("enable_quanted_input", r.enableQuantedInput());
        m.put("seed", r.seed());
        // jround computes in float32 (bf16 is emulated on request), i.e. without mixed precision
        m.put("amp", false);
        m.put("dataset", dataset);
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
            m.put("scale_dtype", scheme.scaleDtype());
        }
        m.put("autoround_version", "jround-0.1.0");
        return m;
    }

    static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Peak resident set size from /proc (Linux), which includes native (libtorch) memory. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // not Linux: report unknown
        }
        return -1;
    }
}
