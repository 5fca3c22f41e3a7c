package com.example.jround.fp16;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code dequant_fp16} format: a plain Hugging Face checkpoint in float16. Every quantized weight is
 * stored as its dequantized value {@code scale * (code - zero)} rounded to the nearest float16, every other
 * floating tensor is converted to float16, and config.json says {@code float16} and has no
 * quantization_config, so any safetensors / transformers reader loads it as an ordinary model. Next to it,
 * {@code dequant_fp16.json} records which layers were quantized with which scheme.
 *
 * <p>Why a third party might want it: half the size of a float32 fake export, and readable by tools that
 * know no quantized layout. Unlike jround's {@code fake} (which keeps the model dtype) it always writes F16.
 */
public final class DequantFp16Exporter implements Exporter {

    public static final String FORMAT = "dequant_fp16";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, version(),
                "third-party example: dequantized weights as a float16 safetensors checkpoint (no quantization_config)",
                Map.of("formats", formats(), "schemes", List.of("any")));
    }

    /** The jar's own version (its manifest's Implementation-Version), written into every export. */
    static String version() {
        return PluginDescriptor.versionOf(DequantFp16Exporter.class, "1.0.0");
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "any scheme (weights dequantized, then rounded to float16; values beyond float16's range are refused)";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        // every scheme dequantizes to floats; the only limit (float16 range) depends on values, checked on write
        return Optional.empty();
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true; // a dequantized head is an ordinary float weight
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new DequantFp16Session(context, version());
    }
}
