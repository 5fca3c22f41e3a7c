package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One llm_compressor export: each quantized Linear as compressed-tensors stores it (pack-quantized:
 * {@code weight_packed}, {@code weight_scale}, {@code weight_zero_point} when asymmetric, {@code weight_shape};
 * int-quantized: int8 {@code weight} and {@code weight_scale}) and the {@code quantization_config} with one config
 * group per distinct scheme (docs/formats.md, llm_compressor).
 */
final class LlmCompressorSession extends HfExportSession {

    /** The compressed-tensors release whose layout (dense packing of every bit width) and config this matches. */
    static final String CT_VERSION = "0.18.0";

    LlmCompressorSession(ExportContext ctx) {
        super(ctx);
    }

    /** Float payloads (MX, NV, FP8) are written from their elements; integer ones from their codes. */
    @Override
    protected boolean storesIntegerCodes() {
        return false;
    }

    @Override
    protected void check(QuantizedLayer layer) {
        LayerSpec spec = specs.get(layer.name());
        CtScheme.refusal(spec).ifPresent(why -> {
            throw new UnsupportedFeatureException(why, "run 'jround list format' for what llm_compressor stores");
        });
        CtScheme ct = CtScheme.of(spec.scheme());
        boolean floatFormat = !ct.format().equals(CtScheme.PACK_QUANTIZED) && !ct.format().equals(CtScheme.INT_QUANTIZED);
        if (floatFormat) {
            if (!(layer.payload() instanceof FloatElements fe)) {
                throw new UnsupportedFeatureException("layer " + layer.name() + " (" + spec.scheme() + ") has no float elements to write as "
                        + ct.format(), "quantize it with the matching data-type plugin (mx_fp, nv_fp, fp)");
            }
            FloatPacking.check(layer.name(), ct.format(), fe, layer.rows(), layer.cols());
            return;
        }
        if (!(layer.payload() instanceof IntegerGrid g)) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " (" + spec.scheme() + ") has no integer codes to pack in format "
                    + ctx.format(), "use --format fake or a gguf format for this scheme");
        }
        if (g.actOrder()) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " uses act-order (a permuted g_idx), which jround's llm_compressor export does not write",
                    "export it with --format auto_round:gptqmodel or auto_gptq");
        }
        int half = 1 << (g.bits() - 1);
        checkRanges(layer, 0, (1 << g.bits()) - 1, "llm_compressor");
        if (spec.scheme().sym()) {
            for (int i = 0; i < g.zeros().length; i++) {
                if (g.zeros()[i] != half) {
                    throw new IllegalArgumentException("layer " + layer.name() + " is symmetric but group " + i
                            + " has zero point " + g.zeros()[i] + " instead of " + half);
                }
            }
        }
    }

    @Override
    protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
        QuantScheme s = specs.get(layer.name()).scheme();
        CtScheme ct = CtScheme.of(s);
        if (layer.payload() instanceof FloatElements fe) {
            return FloatPacking.pack(ct.format(), fe);
        }
        IntegerGrid g = layer.grid();
        int out = layer.rows();
        int in = layer.cols();
        int ng = g.groupsPerRow(in);
        int half = 1 << (g.bits() - 1);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        if (ct.format().equals(CtScheme.INT_QUANTIZED)) {
            byte[] signed = new byte[out * in];
            for (int i = 0; i < signed.length; i++) {
                signed[i] = (byte) (g.codes()[i] - half);
            }
            t.put("weight", new HostTensor(DType.I8, new long[]{out, in}, ByteBuffer.wrap(signed)));
            t.put("weight_scale", scales(g, out, ng));
            return t;
        }
        // compressed-tensors stores signed codes offset by 2^(b-1): exactly jround's unsigned codes
        t.put("weight_packed", HostTensor.ofInts(CtPacking.packRows(g.codes(), out, in, g.bits()), out, CtPacking.words(in, g.bits())));
        t.put("weight_scale", scales(g, out, ng));
        if (!s.sym()) {
            t.put("weight_zero_point", HostTensor.ofInts(CtPacking.packColumns(g.zeros(), out, ng, g.bits()),
                    CtPacking.words(out, g.bits()), ng));
        }
        ByteBuffer shape = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(out).putLong(in);
        t.put("weight_shape", new HostTensor(DType.I64, new long[]{2}, shape.flip()));
        return t;
    }

    /**
     * Scales in float32, whatever the model dtype: compressed-tensors dequantizes in the scale's dtype, and only in
     * float32 is {@code scale * (q - z)} exact, so its weights equal the quantizer's (and a converted GPTQ/AWQ
     * checkpoint's) bit for bit; a loader casting to bf16/fp16 afterwards rounds once, as the fake export does.
     */
    private static HostTensor scales(IntegerGrid g, int out, int ng) {
        return HostTensor.ofFloats(g.scales(), DType.F32, out, ng);
    }

    @Override
    protected HostTensor biasTensor(String module, float[] bias) {
        return HostTensor.ofFloats(bias, modelDtype(module + ".bias"), bias.length);
    }

    /**
     * compressed-tensors' own config: one group per distinct scheme. A single packed group targets {@code Linear} and
     * ignores the float layers; several groups, or a format storing its codes as {@code weight}, list their exact
     * module names (no overlap for a loader to resolve).
     * The top-level format is the groups' common format, else {@code mixed-precision}.
     */
    @Override
    protected ObjectNode quantizationConfig() {
        Map<CtScheme, List<String>> groups = new LinkedHashMap<>();
        List<String> ignore = new ArrayList<>();
        String head = null;
        for (LayerSpec s : specs.values()) {
            if (s.blockIndex() < 0 && s.name().endsWith("lm_head")) {
                head = s.name();
            }
            if (s.quantized()) {
                groups.computeIfAbsent(CtScheme.of(s.scheme()), k -> new ArrayList<>()).add(s.name());
            } else {
                ignore.add(s.name());
            }
        }
        if (head == null) {
            ignore.add("lm_head"); // a tied head is still a Linear module to the loaders
        }
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        qc.put("version", CT_VERSION);
        qc.put("quant_method", "compressed-tensors");
        qc.putObject("sparsity_config");
        qc.putObject("transform_config");
        ObjectNode cg = qc.putObject("config_groups");
        int i = 0;
        for (Map.Entry<CtScheme, List<String>> e : groups.entrySet()) {
            // "Linear" only where no name-based reader can mistake another tensor for the group's: tools that match
            // on tensor names alone (compressed-tensors' dequantizer) take "Linear" as "every module", and a format
            // whose codes sit under ".weight" would then claim the embeddings too
            boolean byClass = groups.size() == 1 && !e.getKey().codesUnderWeight();
            cg.set("group_" + i++, e.getKey().group(byClass ? List.of("Linear") : e.getValue()));
        }
        qc.putNull("kv_cache_scheme");
        List<String> formats = groups.keySet().stream().map(CtScheme::format).distinct().toList();
        qc.put("format", formats.size() == 1 ? formats.get(0) : "mixed-precision");
        qc.put("quantization_status", "compressed");
        qc.putNull("global_compression_ratio");
        var ig = qc.putArray("ignore");
        ignore.forEach(ig::add);
        return qc;
    }
}
