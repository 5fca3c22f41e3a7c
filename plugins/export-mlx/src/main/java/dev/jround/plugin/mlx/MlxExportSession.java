package dev.jround.plugin.mlx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One MLX export: per quantized Linear {@code weight} (uint32 codes), {@code scales} and {@code biases = -s*z} in
 * the model's dtype; config.json gains the {@code quantization} dict (defaults, every quantized layer, {@code false}
 * for float layers mlx-lm would otherwise quantize) and the rope keys at the top level. No
 * quantization_config.json: mlx-lm and transformers read config.json only.
 */
final class MlxExportSession extends HfExportSession {

    private final boolean autoRound;
    private final QuantScheme defaults;

    MlxExportSession(ExportContext ctx, boolean autoRound) {
        // mlx-lm's own writer tags shards "mlx"; transformers (auto_round:mlx) accepts "pt" as the reference writes
        super(ctx, Map.of("format", autoRound ? "pt" : "mlx"));
        this.autoRound = autoRound;
        this.defaults = defaultScheme();
    }

    @Override
    protected void check(QuantizedLayer layer) {
        IntegerGrid g = layer.grid();
        String format = autoRound ? MlxExporter.AUTO_ROUND_MLX : MlxExporter.MLX;
        if (g.actOrder()) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " uses act-order (a permuted g_idx), which "
                    + format + " cannot store", "quantize without act-order for MLX");
        }
        MlxRules.refusal(format, layer.spec()).ifPresent(why -> {
            throw new UnsupportedFeatureException(why, "run 'jround list format' for what mlx stores");
        });
        if (g.groupSize() != layer.spec().scheme().groupSize()) {
            throw new IllegalArgumentException("layer " + layer.name() + " has grid group " + g.groupSize()
                    + " but scheme group " + layer.spec().scheme().groupSize());
        }
        checkRanges(layer, Integer.MIN_VALUE, Integer.MAX_VALUE, format);
    }

    @Override
    protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
        IntegerGrid g = layer.grid();
        int out = layer.rows();
        int in = layer.cols();
        int groups = in / g.groupSize();
        float[] scales = g.scales();
        float[] biases = new float[scales.length];
        int[] zeros = g.zeros();
        for (int i = 0; i < scales.length; i++) {
            biases[i] = -scales[i] * zeros[i];
        }
        DType dt = scaleDtype(layer.name());
        int[] words = MlxPacking.pack(g.codes(), out, in, layer.bits());
        HostTensor packed = HostTensor.ofInts(words, out, MlxPacking.wordsPerRow(in, layer.bits()));
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("weight", new HostTensor(DType.U32, packed.shape(), packed.data()));
        t.put("scales", HostTensor.ofFloats(scales, dt, out, groups));
        t.put("biases", HostTensor.ofFloats(biases, dt, out, groups));
        return t;
    }

    /** The model dtype (mlx-lm computes scales in the weights' dtype); F32 for anything wider. */
    private DType scaleDtype(String module) {
        DType d = modelDtype(module + ".weight");
        return d == DType.F16 || d == DType.BF16 ? d : DType.F32;
    }

    @Override
    protected HostTensor biasTensor(String module, float[] bias) {
        return HostTensor.ofFloats(bias, scaleDtype(module), bias.length);
    }

    @Override
    public void addTensor(String name, HostTensor tensor) {
        // a tied head projects with the embedding in mlx-lm: no lm_head tensors
        if (tiedHead() && (name.equals("lm_head.weight") || name.equals("lm_head.bias"))) {
            return;
        }
        super.addTensor(name, tensor);
    }

    private boolean tiedHead() {
        LayerSpec head = specs.get("lm_head");
        return ctx.config().getBoolean("tie_word_embeddings", false) && (head == null || !head.quantized());
    }

    /** Everything goes into config.json (see {@link #editConfig}). */
    @Override
    protected ObjectNode quantizationConfig() {
        return null;
    }

    @Override
    protected void editConfig(ObjectNode config) {
        flattenRopeParameters(config);
        ObjectNode q = mlxQuantization();
        config.set("quantization", q);
        config.set("quantization_config", autoRound ? autoRoundConfig() : q.deepCopy());
    }

    /** The {@code quantization} dict: defaults, then in model order every quantized layer and the {@code false} ones. */
    ObjectNode mlxQuantization() {
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("group_size", defaults.groupSize());
        q.put("bits", defaults.bits());
        for (String[] e : embeddings()) {
            if (mlxWouldQuantize(Integer.parseInt(e[1]), Integer.parseInt(e[2]))) {
                q.put(e[0], false);
            }
        }
        for (LayerSpec s : specs.values()) {
            if (s.quantized()) {
                ObjectNode l = q.putObject(s.name());
                l.put("group_size", s.scheme().groupSize());
                l.put("bits", s.scheme().bits());
            } else if (mlxWouldQuantize(s.inFeatures(), s.outFeatures())) {
                q.put(s.name(), false);
            }
        }
        return q;
    }

    /** mlx-lm's default predicate as the reference applies it: inner dim divisible by the group, outer by 64. */
    private boolean mlxWouldQuantize(int in, int out) {
        return in % defaults.groupSize() == 0 && out % 64 == 0;
    }

    /** {module, in, out} of every token embedding (mlx-lm can quantize embeddings; jround keeps them in float). */
    private List<String[]> embeddings() {
        List<String[]> r = new ArrayList<>();
        if (ctx.source() == null) {
            return r;
        }
        for (String n : ctx.source().names()) {
            if (!n.endsWith(".weight")) {
                continue;
            }
            String module = n.substring(0, n.length() - ".weight".length());
            boolean embedding = ctx.layout() != null
                    ? ctx.layout().slotOf(n).map(slot -> slot.role() == TensorRole.TOKEN_EMBD).orElse(false)
                    : module.endsWith("embed_tokens");
            TensorInfo info = ctx.source().info(n).orElse(null);
            if (embedding && info != null && info.shape().length == 2 && !specs.containsKey(module)) {
                r.add(new String[]{module, String.valueOf(info.shape()[1]), String.valueOf(info.shape()[0])});
            }
        }
        return r;
    }

    /**
     * The auto-round quantization_config (quant_method auto-round, packing_format mlx) with, like jround's auto_round
     * format, the block prefixes and an extra_config for layers that differ from the defaults or stay in float.
     */
    private ObjectNode autoRoundConfig() {
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        qc.put("quant_method", "auto-round");
        qc.put("packing_format", "mlx");
        qc.put("bits", defaults.bits());
        qc.put("group_size", defaults.groupSize());
        qc.put("sym", defaults.sym());
        qc.put("data_type", "int");
        qc.put("block_name_to_quantize", blockNames());
        qc.put("autoround_version", producerVersion());
        ObjectNode extra = qc.objectNode();
        for (LayerSpec s : specs.values()) {
            QuantScheme q = s.scheme();
            if (!s.quantized()) {
                if (s.blockIndex() >= 0) {
                    ObjectNode e = extra.putObject(s.name());
                    e.put("bits", 16);
                    e.put("data_type", "fp");
                }
                continue;
            }
            ObjectNode diff = qc.objectNode();
            if (q.bits() != defaults.bits() || s.blockIndex() < 0) {
                diff.put("bits", q.bits());
            }
            if (q.groupSize() != defaults.groupSize() || s.blockIndex() < 0) {
                diff.put("group_size", q.groupSize());
            }
            if (q.sym() != defaults.sym() || s.blockIndex() < 0) {
                diff.put("sym", q.sym());
            }
            if (!diff.isEmpty()) {
                extra.set(s.name(), diff);
            }
        }
        if (!extra.isEmpty()) {
            qc.set("extra_config", extra);
        }
        return qc;
    }

    /**
     * mlx-lm reads rope_theta and the other rope keys beside the model's other keys; newer transformers nest them in
     * {@code rope_parameters} (by mode: its {@code default} entry). Lifted up without overwriting, at every level.
     */
    static void flattenRopeParameters(ObjectNode cfg) {
        JsonNode rope = cfg.remove("rope_parameters");
        if (rope instanceof ObjectNode r) {
            ObjectNode chosen = r;
            List<ObjectNode> subs = new ArrayList<>();
            r.fields().forEachRemaining(e -> {
                if (e.getValue() instanceof ObjectNode o) {
                    subs.add(o);
                }
            });
            if (!subs.isEmpty()) {
                chosen = r.get("default") instanceof ObjectNode d ? d : subs.get(0);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = chosen.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!cfg.has(e.getKey())) {
                    cfg.set(e.getKey(), e.getValue());
                }
            }
        }
        cfg.fields().forEachRemaining(e -> {
            if (e.getValue() instanceof ObjectNode o) {
                flattenRopeParameters(o);
            }
        });
    }
}
