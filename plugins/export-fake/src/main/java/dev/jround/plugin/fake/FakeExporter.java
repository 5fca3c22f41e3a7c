package dev.jround.plugin.fake;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code fake} format: a plain float checkpoint in the source architecture whose quantized weights are
 * replaced by their fake-quantized (dequantized) values in the model dtype. Every consumer loads it as a
 * normal model; it is the ground truth the packed formats are checked against.
 */
public final class FakeExporter implements Exporter {

    static final String FORMAT = "fake";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "fake-quantized float checkpoints (dequantized weights, no quantization_config)",
                Map.of("formats", List.of(FORMAT), "schemes", List.of("any")));
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "any scheme (weights stored dequantized in the model dtype)";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        return Optional.empty();
    }

    @Override
    public boolean acceptsQuantizedLmHead(String format) {
        return true;
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new FakeSession(context);
    }

    /** Writes {@code <m>.weight} = the dequantized weight, biases in the model dtype, and no quantization_config. */
    static final class FakeSession extends HfExportSession {

        FakeSession(ExportContext ctx) {
            super(ctx);
        }

        @Override
        protected boolean storesIntegerCodes() {
            return false;
        }

        @Override
        protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
            var dtype = modelDtype(layer.name() + ".weight");
            return Map.of("weight", HostTensor.ofFloats(layer.dequantized(), dtype, layer.rows(), layer.cols()));
        }

        @Override
        protected HostTensor biasTensor(String module, float[] bias) {
            return HostTensor.ofFloats(bias, modelDtype(module + ".bias"), bias.length);
        }

        @Override
        protected com.fasterxml.jackson.databind.node.ObjectNode quantizationConfig() {
            return null;
        }
    }
}
