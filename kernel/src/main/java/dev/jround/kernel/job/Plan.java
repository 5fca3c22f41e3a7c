package dev.jround.kernel.job;

import dev.jround.kernel.model.CheckpointAudit;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.TuningOptions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Stage "plan": everything a run decides once the model is open and before any work — the scheme and per-layer
 * specs, what each exporter refuses, the NaN scan, the algorithm, the data type per scheme and the tuning options.
 * Later stages only read it.
 */
record Plan(QuantizeRequest request, Formats formats, SchemeSetup setup, AlgorithmChoice choice,
            Function<QuantScheme, QuantDataType> dataTypes, TuningOptions options) {

    static Plan decide(PluginRegistry registry, Formats formats, LoadedModel model, ProgressListener progress) {
        QuantizeRequest r = formats.request();
        if (r.lowGpuMemUsage()) {
            lowGpuMemUsage(model.device().deviceName(), progress);
        }
        SchemeSetup setup = SchemeSetup.resolve(registry, r, model.lm(), model.config(), progress);
        refuseWhatFormatsCannotStore(registry, formats, setup.layers(), model.layout());
        // NaN or Inf weights would be written as NaN/Inf scales: refuse them before calibration starts.
        CheckpointAudit.finite(model.weights());
        if (r.printConfig()) {
            progress.message(setup.table());
        }
        AlgorithmChoice choice = AlgorithmChoice.resolve(r, setup.scheme(), setup.presetTraits(),
                registry.all(QuantAlgorithm.class));
        // a backend without autograd cannot tune: refused here, before the output is claimed
        dev.jround.kernel.model.DeviceCheck.algorithm(model.device(), choice.plugin(), choice.role());
        Function<QuantScheme, QuantDataType> dataTypes = dataTypeLookup(registry);
        // every quantized layer's data type is looked up now, so that a missing plugin refuses before work
        setup.layers().stream().filter(LayerSpec::quantized).forEach(s -> dataTypes.apply(s.scheme()));
        TuningOptions options = TuningOptions.builder().iters(r.effectiveIters()).lr(r.effectiveLr())
                .minmaxLr(r.minmaxLr()).batchSize(r.effectiveBatchSize())
                .gradientAccumulateSteps(r.gradientAccumulateSteps()).enableMinmaxTuning(r.enableMinmaxTuning())
                .notUseBestMse(r.notUseBestMse()).dynamicMaxGap(r.dynamicMaxGap()).momentum(r.momentum())
                .enableQuantedInput(r.enableQuantedInput()).disableOptRtn(choice.disableOptRtn()).seed(r.seed())
                .build();
        return new Plan(r, formats, setup, choice, dataTypes, options);
    }

    List<LayerSpec> layers() {
        return setup.layers();
    }

    QuantAlgorithm algorithm() {
        return choice.plugin();
    }

    /** The exporters' own reasons, per format: the model, each layer's scheme, a quantized lm_head. */
    private static void refuseWhatFormatsCannotStore(PluginRegistry registry, Formats formats, List<LayerSpec> specs,
                                                     TensorLayout layout) {
        String model = formats.request().model();
        for (int i = 0; i < formats.size(); i++) {
            Exporter ex = formats.exporters().get(i);
            String fmt = formats.names().get(i);
            var modelWhy = ex.modelRefusal(fmt, layout);
            if (modelWhy.isPresent()) {
                throw new UnsupportedFeatureException("format " + fmt + " cannot store " + model
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
                        "run 'jround list format'; " + lmHeadFormats(registry) + " store a quantized lm_head");
            }
        }
    }

    /** The installed formats that store a quantized lm_head, for the --quant_lm_head hint. */
    private static String lmHeadFormats(PluginRegistry registry) {
        List<String> out = new ArrayList<>();
        for (Exporter e : registry.all(Exporter.class)) {
            e.formats().stream().filter(e::acceptsQuantizedLmHead).forEach(out::add);
        }
        out.sort(null);
        return out.isEmpty() ? "no installed format can" : String.join(", ", out);
    }

    private static Function<QuantScheme, QuantDataType> dataTypeLookup(PluginRegistry registry) {
        List<QuantDataType> types = registry.all(QuantDataType.class);
        Map<QuantScheme, QuantDataType> cache = new LinkedHashMap<>();
        return scheme -> cache.computeIfAbsent(scheme, s -> types.stream().filter(t -> t.supports(s)).findFirst()
                .orElseThrow(() -> new UnsupportedFeatureException("no data-type plugin supports " + s,
                        "installed data types: " + types.stream().map(t -> t.descriptor().id()).toList())));
    }

    /**
     * AutoRound's low_gpu_mem_usage keeps cached block inputs, reference outputs and best-parameter snapshots in host
     * memory (docs/algorithms.md). On the cpu backend they live there already, so the flag holds by construction; a
     * backend with its own device memory would need the placement switch, which jround does not have: refused.
     */
    private static void lowGpuMemUsage(String device, ProgressListener progress) {
        if (!"cpu".equalsIgnoreCase(device)) {
            throw new UnsupportedFeatureException("--low_gpu_mem_usage is not implemented for the " + device + " device backend",
                    "leave it out, or run on the cpu backend (--device_map cpu), where block data already lives in host memory");
        }
        progress.message("--low_gpu_mem_usage: on the cpu device block inputs, reference outputs and best-parameter snapshots "
                + "already live in host memory; recorded as low_gpu_mem_usage: true in quantization_config");
    }
}
