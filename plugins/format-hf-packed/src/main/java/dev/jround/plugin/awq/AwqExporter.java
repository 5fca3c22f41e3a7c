package dev.jround.plugin.awq;

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
 * The {@code auto_awq} format: AutoAWQ GEMM layout (4-bit, packed along the output dimension in the
 * interleaved nibble order, zero points as is), {@code quant_method awq}, plus {@code quant_config.json}
 * for the AutoAWQ loader. Loaded by transformers (autoawq / gptqmodel), vLLM (AWQ, AWQ-Marlin) and AutoAWQ.
 */
public final class AwqExporter implements Exporter {

    static final String FORMAT = "auto_awq";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "AWQ GEMM checkpoints (quant_method awq, 4-bit) for transformers, vLLM and AutoAWQ",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("W4A16 asym", "W4A16 sym")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "int W4 asym (sym stored with zero point 8), one group size for all layers dividing in_features; "
                + "in/out divisible by 32; lm_head stays in float";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        if (layer.quantized() && layer.blockIndex() < 0) {
            return Optional.of("layer " + layer.name() + ": auto_awq loaders keep layers outside the decoder blocks "
                    + "(lm_head) in float; use --format auto_round or auto_gptq for a quantized lm_head");
        }
        return PackedRules.refusal(format, layer, Set.of(4), true);
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new AwqSession(context);
    }
}
