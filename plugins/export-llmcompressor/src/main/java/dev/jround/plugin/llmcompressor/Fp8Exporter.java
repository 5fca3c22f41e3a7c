package dev.jround.plugin.llmcompressor;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizationArgs;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code fp8} format: block-wise FP8 E4M3 weights with one float32 dequantization multiplier per block
 * ({@code weight_scale_inv}), the DeepSeek-style layout transformers' FineGrainedFP8 and vLLM load (docs/formats.md).
 * Not yet in META-INF/services: registering the id {@code fp8} makes NoPluginNamesInKernelTest fail on a kernel hint
 * that names it (docs/formats.md, fp8).
 */
public final class Fp8Exporter implements Exporter {

    static final String FORMAT = "fp8";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, "fp8", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "block-wise FP8 checkpoints (weight + weight_scale_inv) for transformers FineGrainedFP8 and vLLM",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("FP8_BLOCK")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "FP8_BLOCK: fp (E4M3) weights in 2-D blocks (128x128), float32 weight_scale_inv per block, dynamic FP8 activations";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        if (!layer.quantized()) {
            return Optional.empty();
        }
        QuantScheme s = layer.scheme();
        String where = "layer " + layer.name() + " (" + s + "): fp8 ";
        if (!"fp".equals(s.dataType()) || s.bits() != 8) {
            return Optional.of(where + "stores FP8 E4M3 weights (data_type fp, 8 bits) only; use --format llm_compressor or fake");
        }
        if (s.weights().strategy() != QuantizationArgs.Strategy.BLOCK) {
            return Optional.of(where + "stores 2-D weight blocks (FP8_BLOCK, group_size 128x128), not " + s.weights().strategy()
                    .name().toLowerCase(java.util.Locale.ROOT) + " scales; use --format llm_compressor (float-quantized) for those");
        }
        if (s.actBits() < 16 && !s.actDynamic()) {
            return Optional.of(where + "records dynamic activation quantization only (activation_scheme dynamic)");
        }
        return Optional.empty();
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new Fp8Session(context);
    }
}
