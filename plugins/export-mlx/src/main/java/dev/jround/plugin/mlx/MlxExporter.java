package dev.jround.plugin.mlx;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * MLX checkpoints: {@code mlx} for mlx-lm (config {@code quantization}, safetensors metadata {@code format: mlx})
 * and {@code auto_round:mlx}, the same tensors with an auto-round {@code quantization_config} (packing_format
 * {@code mlx}) for transformers + AutoRound. Layout and config: docs/formats.md, "MLX".
 */
public final class MlxExporter implements Exporter {

    static final String MLX = "mlx";
    static final String AUTO_ROUND_MLX = "auto_round:mlx";
    private static final List<String> FORMATS = List.of(MLX, AUTO_ROUND_MLX);
    /** The model families mlx-lm runs among those jround's architecture plugins read (by their display name). */
    static final Set<String> MLX_LM_FAMILIES = Set.of("Llama", "Mistral", "Qwen2", "Qwen3");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, "mlx", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "MLX checkpoints for mlx-lm (Apple Silicon) and auto_round:mlx for transformers + AutoRound",
                Map.of("formats", FORMATS, "schemes", List.of("W2A16", "W3A16", "W4A16", "W5A16", "W6A16", "W8A16", "mixed bits")));
    }

    @Override
    public List<String> formats() {
        return FORMATS;
    }

    @Override
    public String supportedSchemes(String format) {
        String common = "int W2/W3/W4/W5/W6/W8 sym/asym, group_size 32/64/128 dividing in_features, mixed bits and groups, "
                + "quantized lm_head on untied models";
        return format.equals(MLX) ? common + "; mlx-lm's llama/mistral/qwen2/qwen3" : common + "; quant_method auto-round, packing_format mlx";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        return MlxRules.refusal(format, layer);
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public Optional<String> modelRefusal(String format, TensorLayout layout) {
        if (format.equals(MLX) && layout != null && !MLX_LM_FAMILIES.contains(layout.facts().name())) {
            return Optional.of("mlx-lm has no " + layout.facts().name() + " model, so it could not load the checkpoint; "
                    + "mlx writes " + String.join("/", new java.util.TreeSet<>(MLX_LM_FAMILIES)) + " models");
        }
        return Optional.empty();
    }

    @Override
    public ExportSession open(ExportContext context) {
        String format = context.format() == null ? MLX : context.format();
        if (!FORMATS.contains(format)) {
            throw new InvalidInputException("the mlx exporter does not write '" + format + "'", "formats: mlx, auto_round:mlx");
        }
        return new MlxExportSession(context, format.equals(AUTO_ROUND_MLX));
    }
}
