package dev.jround.plugin.onnx;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code onnx} format: the quantized decoder as one ONNX graph with a key/value cache, quantized linears as
 * ONNX Runtime's {@code com.microsoft::MatMulNBits}, everything else in the model's float type, plus a
 * {@code genai_config.json} for onnxruntime-genai (docs/formats.md, "onnx").
 */
public final class OnnxExporter implements Exporter {

    static final String FORMAT = "onnx";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "ONNX decoder graph with past_key_values for ONNX Runtime; weight-only int layers as MatMulNBits",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("int 2/4/8-bit weight-only, groups 16..256"),
                        "architectures", List.of("decoders with RMSNorm, rotary attention and a gated MLP")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "weight-only int, 2, 4 or 8 bits, sym or asym, group size a power of two from 16 to 256"
                + " (or per channel for rows up to 256)";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        if (!FORMAT.equals(format)) {
            return Optional.of("'" + format + "' is not an ONNX format; valid: " + FORMAT);
        }
        return MatMulNBitsLayout.refusal(layer);
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    /** The graph is built from the architecture's roles: RMSNorm, full rotary attention, gated MLP. */
    @Override
    public Optional<String> modelRefusal(String format, TensorLayout layout) {
        if (layout == null) {
            return Optional.of("ONNX export builds its graph from tensor roles, and this model's architecture plugin"
                    + " declares none");
        }
        ArchitectureFacts f = layout.facts();
        if (f.norm() != ArchitectureFacts.Norm.RMS) {
            return Optional.of("the ONNX export's decoder graph uses RMSNorm; " + f.name() + " uses " + f.norm() + " norms");
        }
        if (f.ropeDimensionCount() != f.headDim()) {
            return Optional.of("the ONNX export's decoder graph rotates whole heads; " + f.name() + " rotates "
                    + f.ropeDimensionCount() + " of " + f.headDim() + " dimensions");
        }
        if (f.headCountKv() <= 0 || f.headCount() % f.headCountKv() != 0) {
            return Optional.of(f.name() + " has " + f.headCount() + " query heads and " + f.headCountKv()
                    + " key/value heads; the ONNX graph needs whole groups");
        }
        return Optional.empty();
    }

    @Override
    public ExportSession open(ExportContext context) {
        Optional<String> refused = modelRefusal(context.format(), context.layout());
        if (refused.isPresent()) {
            throw new UnsupportedFeatureException(refused.get(), "choose another --format (fake, auto_round, gguf ...)");
        }
        return new OnnxExportSession(context, OnnxExportSession.EXTERNAL_DATA_THRESHOLD);
    }
}
