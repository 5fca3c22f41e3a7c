package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One fp8 export: per quantized Linear {@code weight} (F8_E4M3) and {@code weight_scale_inv} (float32
 * {@code [ceil(out/br), ceil(in/bc)]}, despite its name the multiplier), and the reference's auto-round block-FP8
 * {@code quantization_config}; option {@code fp8_config=native} writes the {@code quant_method fp8} config instead.
 */
final class Fp8Session extends HfExportSession {

    private int[] block;

    Fp8Session(ExportContext ctx) {
        super(ctx);
    }

    @Override
    protected boolean storesIntegerCodes() {
        return false;
    }

    @Override
    protected void check(QuantizedLayer layer) {
        LayerSpec spec = specs.get(layer.name());
        new Fp8Exporter().refusal(Fp8Exporter.FORMAT, spec).ifPresent(why -> {
            throw new UnsupportedFeatureException(why, "run 'jround list format'");
        });
        if (!(layer.payload() instanceof FloatElements fe) || fe.format() != FloatElements.ElementFormat.FP8_E4M3
                || fe.scaleFormat() != FloatElements.ScaleFormat.FP32 || fe.globalScale() != 1f) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " has no FP8 E4M3 elements with float32 block scales",
                    "quantize it with the fp data type (FP8_BLOCK)");
        }
        int[] b = {fe.blockRows(), fe.blockCols()};
        if (block != null && (block[0] != b[0] || block[1] != b[1])) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " has " + b[0] + "x" + b[1] + " blocks, other layers "
                    + block[0] + "x" + block[1], "the fp8 format records one weight_block_size for the model");
        }
        block = b;
        for (int i = 0; i < fe.count(); i++) {
            if ((fe.element(i) & 0x7F) == 0x7F) {
                throw new IllegalArgumentException("layer " + layer.name() + ": element " + i + " is an E4M3 NaN code");
            }
        }
    }

    @Override
    protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
        FloatElements fe = (FloatElements) layer.payload();
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("weight", new HostTensor(DType.F8_E4M3, new long[]{fe.rows(), fe.cols()}, ByteBuffer.wrap(fe.elements())));
        t.put("weight_scale_inv", HostTensor.ofFloats(fe.scales(), fe.scaleRows(), fe.scaleCols()));
        return t;
    }

    @Override
    protected HostTensor biasTensor(String module, float[] bias) {
        return HostTensor.ofFloats(bias, modelDtype(module + ".bias"), bias.length);
    }

    @Override
    protected void editConfig(ObjectNode config) {
        forceDtype(config, "bfloat16"); // FP8 kernels compute in bf16, as the reference writes for activation-quantized schemes
    }

    @Override
    protected ObjectNode quantizationConfig() {
        int[] b = block != null ? block : new int[]{128, 128};
        List<String> ignored = new ArrayList<>();
        for (LayerSpec s : specs.values()) {
            if (!s.quantized()) {
                ignored.add(s.name());
            }
        }
        if (specs.values().stream().noneMatch(s -> s.blockIndex() < 0 && s.name().endsWith("lm_head"))) {
            ignored.add("lm_head");
        }
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        if ("native".equals(String.valueOf(options().get("fp8_config")))) {
            qc.put("quant_method", "fp8");
            qc.put("fmt", "e4m3");
            qc.put("activation_scheme", "dynamic");
            qc.putArray("weight_block_size").add(b[0]).add(b[1]);
            ignored.forEach(qc.putArray("ignored_layers")::add);
            ignored.forEach(qc.putArray("modules_to_not_convert")::add);
            return qc;
        }
        qc.put("quant_method", "auto-round");
        qc.put("packing_format", "fp8");
        qc.put("fmt", "e4m3");
        qc.put("activation_scheme", "dynamic");
        qc.putArray("weight_block_size").add(b[0]).add(b[1]);
        qc.put("bits", 8);
        qc.putArray("group_size").add(b[0]).add(b[1]);
        qc.put("data_type", "fp");
        qc.put("sym", true);
        qc.put("act_bits", 8);
        qc.put("act_group_size", b[1]);
        qc.put("act_data_type", "fp");
        qc.put("act_sym", true);
        qc.put("act_dynamic", true);
        qc.put("block_name_to_quantize", blockNames());
        ignored.forEach(qc.putArray("ignored_layers")::add);
        qc.put("autoround_version", producerVersion());
        return qc;
    }
}
