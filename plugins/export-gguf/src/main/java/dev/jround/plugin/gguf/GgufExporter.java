package dev.jround.plugin.gguf;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.TensorLayout;
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
                Map.of("formats", GgufMix.formats(),
                        "architectures", List.of("any whose architecture plugin names a llama.cpp architecture")));
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

    /** GGUF holds models llama.cpp runs: the architecture plugin names llama.cpp's architecture, or GGUF refuses. */
    @Override
    public Optional<String> modelRefusal(String format, TensorLayout layout) {
        if (layout == null) {
            return Optional.of("GGUF export maps tensor roles, and this model's architecture plugin declares none");
        }
        if (layout.facts().llamaCpp() == null) {
            return Optional.of("llama.cpp has no " + layout.facts().name() + " architecture, so GGUF cannot hold this model");
        }
        return Optional.empty();
    }

    @Override
    public ExportSession open(ExportContext context) {
        GgufMix mix = GgufMix.fromFormat(context.format()).orElseThrow(() -> new dev.jround.spi.InvalidInputException(
                "'" + context.format() + "' is not a GGUF format", "valid: " + String.join(", ", GgufMix.formats())));
        Optional<String> refused = modelRefusal(context.format(), context.layout());
        if (refused.isPresent()) {
            throw new dev.jround.spi.UnsupportedFeatureException(refused.get(),
                    "choose another --format (auto_round, auto_gptq, fake ...) for this architecture");
        }
        return new GgufExportSession(context, mix, context.layout());
    }
}
