package dev.jround.plugin.gguf;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Writes llama.cpp GGUF files: the legacy and k-quant mixtures {@code gguf:q2_k_s} ... {@code gguf:q8_0}. */
public final class GgufExporter implements Exporter {

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, "gguf", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "GGUF for llama.cpp: Q4_0..Q8_0 and k-quant mixtures with llama.cpp's per-tensor types",
                Map.of("formats", GgufMix.formats(), "architectures", List.of("llama", "mistral", "qwen2", "qwen3")));
    }

    @Override
    public List<String> formats() {
        return GgufMix.formats();
    }

    @Override
    public String supportedSchemes(String format) {
        return GgufMix.fromFormat(format)
                .map(m -> "any weight-only scheme; tensors are stored as " + m.base() + " and the mixture's upgrades"
                        + " (layers tuned for the GGUF type keep their tuned grid)")
                .orElse("not a GGUF format");
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        if (GgufMix.fromFormat(format).isEmpty()) {
            return Optional.of("'" + format + "' is not a GGUF format; valid: " + String.join(", ", GgufMix.formats()));
        }
        if (layer.quantized() && layer.scheme().actBits() < 16) {
            return Optional.of("GGUF stores weight-only quantization; layer " + layer.name() + " quantizes activations to "
                    + layer.scheme().actBits() + " bits");
        }
        return Optional.empty();
    }

    /** AutoRound names a GGUF run {@code <model>-gguf}: the file holds a per-tensor mixture, not one scheme. */
    @Override
    public Optional<String> runDirectorySuffix(String format) {
        return Optional.of("gguf");
    }

    @Override
    public ExportSession open(ExportContext context) {
        GgufMix mix = GgufMix.fromFormat(context.format()).orElseThrow(() -> new dev.jround.spi.InvalidInputException(
                "'" + context.format() + "' is not a GGUF format", "valid: " + String.join(", ", GgufMix.formats())));
        String arch = GgufModelMetadata.architectureOf(context.config().modelType());
        if (arch == null) {
            throw new dev.jround.spi.UnsupportedFeatureException("GGUF export needs a llama, mistral, qwen2 or qwen3 model; "
                    + context.sourceDir() + " has model_type '" + context.config().modelType() + "'",
                    "choose another --format (auto_round, auto_gptq, fake ...) for this architecture");
        }
        return new GgufExportSession(context, mix, arch);
    }
}
