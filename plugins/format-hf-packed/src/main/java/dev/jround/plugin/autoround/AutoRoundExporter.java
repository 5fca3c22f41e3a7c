package dev.jround.plugin.autoround;

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
 * The {@code auto_round} format (quant_method {@code auto-round}) with the reference's packing choices:
 * symmetric integer schemes use the {@code auto_round:auto_gptq} layout (GPTQ, zero minus one), asymmetric
 * 4-bit models {@code auto_round:auto_awq}, other asymmetric ones the native layout (GPTQ, zero as is).
 * The sub-formats can also be asked for explicitly.
 */
public final class AutoRoundExporter implements Exporter {

    static final String AUTO_ROUND = "auto_round";
    static final String AUTO_GPTQ = "auto_round:auto_gptq";
    static final String GPTQMODEL = "auto_round:gptqmodel";
    static final String AUTO_AWQ = "auto_round:auto_awq";
    private static final List<String> FORMATS = List.of(AUTO_ROUND, AUTO_GPTQ, GPTQMODEL, AUTO_AWQ);

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, "auto_round", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "auto_round checkpoints (GPTQ/AWQ packed, quant_method auto-round) for transformers and vLLM",
                Map.of("formats", FORMATS, "schemes", List.of("W2A16", "W3A16", "W4A16", "W8A16", "mixed bits")));
    }

    @Override
    public List<String> formats() {
        return FORMATS;
    }

    @Override
    public String supportedSchemes(String format) {
        return switch (format) {
            case AUTO_AWQ -> "int W4 sym/asym, any group dividing in_features; in/out divisible by 32";
            case AUTO_GPTQ -> "int W2/W3/W4/W8 sym (asym with zero points >= 1), mixed bits; in/out divisible by 32";
            case GPTQMODEL -> "int W2/W3/W4/W8 sym/asym, mixed bits, with g_idx; in/out divisible by 32";
            default -> "int W2/W3/W4/W8 sym/asym, mixed bits, quantized lm_head; packing chosen like the reference "
                    + "(sym: auto_round:auto_gptq, asym W4: auto_round:auto_awq, other asym: native)";
        };
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        boolean awq = format.equals(AUTO_AWQ);
        return PackedRules.refusal(format, layer, awq ? Set.of(4) : Set.of(2, 3, 4, 8), awq);
    }

    /** AutoRound's default {@code --format}. */
    @Override
    public boolean isDefault(String format) {
        return AUTO_ROUND.equals(format);
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new AutoRoundSession(context);
    }
}
