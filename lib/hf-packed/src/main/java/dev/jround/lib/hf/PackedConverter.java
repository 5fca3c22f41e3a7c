package dev.jround.lib.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-packs a packed checkpoint into another packed format without re-quantizing: the integer codes,
 * scales and zero points are read with {@link PackedCheckpoint} and handed to an exporter as they are,
 * so the dequantized weights of the result equal those of the source exactly.
 */
public final class PackedConverter {

    /** Tuning settings of the source's quantization_config that describe how it was made; carried over. */
    private static final List<String> CARRIED = List.of("amp", "batch_size", "enable_minmax_tuning", "enable_norm_bias_tuning",
            "enable_quanted_input", "gradient_accumulate_steps", "iters", "lr", "low_gpu_mem_usage", "minmax_lr",
            "nsamples", "scale_dtype", "seqlen");

    private PackedConverter() {
    }

    /** What a conversion did. */
    public record Result(int packedLayers, int floatTensors, String sourceDescription) {
    }

    /**
     * Writes {@code in} as {@code format} into {@code outDir} (which must exist and be empty; the caller
     * renames it when this returns). Fails before writing anything if the target cannot hold a layer.
     */
    public static Result convert(PackedCheckpoint in, Exporter exporter, String format, Path outDir, long maxShardBytes) {
        if (in.kind() == PackedCheckpoint.Kind.FLOAT) {
            throw new InvalidInputException(in.directory() + " has no packed layers (no quantization_config)",
                    "convert reads GPTQ, AWQ or auto_round checkpoints; quantize float models with 'jround quantize'");
        }
        List<LayerSpec> layers = in.linearLayers();
        List<String> refusals = new ArrayList<>();
        for (LayerSpec s : layers) {
            exporter.refusal(format, s).ifPresent(refusals::add);
            if (s.quantized() && s.blockIndex() < 0 && !exporter.acceptsQuantizedLmHead(format)) {
                refusals.add("layer " + s.name() + ": " + format + " cannot store a quantized lm_head");
            }
        }
        if (!refusals.isEmpty()) {
            throw new UnsupportedFeatureException("cannot convert " + in.directory() + " to " + format + ": " + refusals.get(0)
                    + (refusals.size() > 1 ? " (and " + (refusals.size() - 1) + " more)" : ""),
                    "pick a format that stores this checkpoint's scheme (jround list format)");
        }
        Map<String, Object> options = new LinkedHashMap<>();
        ObjectNode qc = in.quantizationConfig();
        for (String k : CARRIED) {
            JsonNode v = qc.get(k);
            if (v != null && !v.isNull()) {
                options.put(k, v.isBoolean() ? v.asBoolean() : v.isIntegralNumber() ? v.asInt() : v.isNumber() ? v.asDouble() : v.asText());
            }
        }
        List<String> blocks = in.blockPrefixes().isEmpty() ? List.of("model.layers") : in.blockPrefixes();
        ExportContext ctx = ExportContext.builder().format(format).outputDir(outDir).config(in.config())
                .sourceDir(in.directory()).source(in.tensors()).layers(layers).blockPrefixes(blocks).options(options)
                .maxShardBytes(maxShardBytes).build();
        int packed = 0;
        int floats = 0;
        ExportSession session = exporter.open(ctx);
        try {
            for (LayerSpec s : layers) {
                if (!s.quantized()) {
                    continue;
                }
                QuantizedLayer l = in.layer(s.name());
                if (l.grid().actOrder()) {
                    throw new UnsupportedFeatureException(in.directory() + ": layer " + s.name()
                            + " uses act-order (a permuted g_idx), which " + format + " cannot store",
                            "load it with 'jround generate/eval' (the packed loader honours g_idx) instead of converting");
                }
                session.addQuantized(l);
                packed++;
            }
            for (String n : in.tensors().names()) {
                if (!in.isPackedTensor(n)) {
                    session.addTensor(n, in.tensors().get(n));
                    floats++;
                }
            }
            session.finish();
        } catch (RuntimeException e) {
            session.abort();
            throw e;
        } finally {
            session.close();
        }
        return new Result(packed, floats, in.kind().quantMethod() + " (" + in.packingFormat() + ")");
    }
}
