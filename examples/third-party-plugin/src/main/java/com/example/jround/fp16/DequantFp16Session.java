package com.example.jround.fp16;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.ExportContext;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.lib.hf.PyJson;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes through the SPI's {@link HfExportSession}, which streams safetensors shards, copies tokenizer and
 * generation files and writes config.json; this class only decides the dtype of each tensor.
 */
final class DequantFp16Session extends HfExportSession {

    static final String SUMMARY = "dequant_fp16.json";

    /** The largest finite float16. */
    static final float F16_MAX = 65504f;

    private final String writerVersion;

    DequantFp16Session(ExportContext ctx, String writerVersion) {
        super(ctx);
        this.writerVersion = writerVersion;
    }

    @Override
    protected boolean storesIntegerCodes() {
        return false; // payloads without an integer grid (GGUF k-quant blocks) still carry dequantized weights
    }

    @Override
    protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
        return Map.of("weight", toF16(layer.name() + ".weight", layer.dequantized(), layer.rows(), layer.cols()));
    }

    @Override
    protected HostTensor biasTensor(String module, float[] bias) {
        return toF16(module + ".bias", bias, bias.length);
    }

    @Override
    public void addTensor(String name, HostTensor tensor) {
        // norms, embeddings and layers kept in full precision: float16 too, so the checkpoint has one dtype;
        // integer tensors (none in Llama checkpoints, but a model may have buffers) stay as they are
        boolean convert = tensor.dtype().isFloating() && tensor.dtype() != DType.F16 && !replacedWeight(name);
        super.addTensor(name, convert ? toF16(name, tensor.toFloats(), tensor.shape()) : tensor);
    }

    /** The source weight of a quantized layer, which the base class drops (its dequantized value replaces it). */
    private boolean replacedWeight(String name) {
        if (!name.endsWith(".weight")) {
            return false;
        }
        LayerSpec spec = specs.get(name.substring(0, name.length() - ".weight".length()));
        return spec != null && spec.quantized();
    }

    @Override
    protected ObjectNode quantizationConfig() {
        return null; // a plain float checkpoint: loaders must not look for packed weights
    }

    @Override
    protected void editConfig(ObjectNode config) {
        forceDtype(config, "float16");
    }

    @Override
    protected void writeExtraFiles(Path dir) throws IOException {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("format", DequantFp16Exporter.FORMAT);
        root.put("writer", "com.example.jround dequant_fp16 " + writerVersion);
        ObjectNode layers = root.putObject("quantized_layers");
        for (LayerSpec s : quantizedSpecs()) {
            QuantScheme q = s.scheme();
            ObjectNode l = layers.putObject(s.name());
            l.put("bits", q.bits());
            l.put("group_size", configGroupSize(q));
            l.put("sym", q.sym());
            l.put("data_type", q.dataType());
        }
        writeText(dir.resolve(SUMMARY), PyJson.write(root, false) + "\n");
    }

    /** Rounds to float16; a finite value float16 cannot hold would silently become infinity, so it is refused. */
    static HostTensor toF16(String name, float[] values, long... shape) {
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (Float.isFinite(v) && Math.abs(v) > F16_MAX) {
                throw new InvalidInputException("tensor " + name + " holds " + v + " at element " + i
                        + ", beyond float16's range (" + F16_MAX + ")",
                        "export this model with --format fake, which keeps the model's own dtype");
            }
        }
        return HostTensor.ofFloats(values, DType.F16, shape);
    }
}
