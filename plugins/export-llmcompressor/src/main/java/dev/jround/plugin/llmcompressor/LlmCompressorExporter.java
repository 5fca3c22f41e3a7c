package dev.jround.plugin.llmcompressor;

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
 * The {@code llm_compressor} format: compressed-tensors checkpoints ({@code quant_method compressed-tensors}),
 * which vLLM and transformers load natively.
 */
public final class LlmCompressorExporter implements Exporter {

    static final String FORMAT = "llm_compressor";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, "llm_compressor", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "compressed-tensors checkpoints (quant_method compressed-tensors) for vLLM and transformers",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("W2A16", "W3A16", "W4A16", "W8A16", "INT8_W8A8", "MXFP4",
                        "MXFP8", "NVFP4 (act_bits 16)", "FPW8A16", "FP8 dynamic", "mixed schemes")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "pack-quantized: int W2/W3/W4/W8 A16 sym/asym, per channel or groups dividing in_features (W2A16, W3A16, "
                + "W4A16, W8A16); int-quantized: INT8_W8A8 (dynamic per-token int8 activations); mxfp4-pack-quantized / "
                + "mxfp8-quantized: MXFP4, MXFP8 (A16 or dynamic MX activations); nvfp4-pack-quantized: NVFP4 with act_bits 16; "
                + "float-quantized: FPW8A16, FP8 per tensor/channel/group/2-D block with dynamic activations (static "
                + "activation scales need calibration: refused); mixed schemes as several config groups; quantized lm_head";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        return CtScheme.refusal(layer);
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new LlmCompressorSession(context);
    }
}
