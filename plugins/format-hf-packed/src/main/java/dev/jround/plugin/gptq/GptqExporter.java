package dev.jround.plugin.gptq;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.lib.hf.PackedRules;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code auto_gptq} format: GPTQ v1 packing (zero points stored minus one), {@code g_idx}, fp16 scales,
 * {@code quant_method gptq} with GPTQModel-style {@code dynamic} overrides, plus {@code quantize_config.json}
 * for the AutoGPTQ loader. Loaded by transformers (optimum/GPTQModel), vLLM, AutoGPTQ and GPTQModel.
 */
public final class GptqExporter implements Exporter {

    static final String FORMAT = "auto_gptq";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "GPTQ checkpoints (quant_method gptq, v1 zero points) for transformers, vLLM, AutoGPTQ and GPTQModel",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("W2A16", "W3A16", "W4A16", "W8A16", "mixed bits")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "int W2/W3/W4/W8 sym (asym only with zero points >= 1: GPTQ v1 cannot store 0), mixed bits via dynamic, "
                + "quantized lm_head; group dividing in_features; in/out divisible by 32";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        return PackedRules.refusal(format, layer, Set.of(2, 3, 4, 8), false);
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new GptqSession(context);
    }
}
