package dev.jround.plugin.onnx;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.hf.HfExportSession;
import dev.jround.plugin.onnx.OnnxGraph.ElemType;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX export. Weights are streamed to {@code model.onnx.data} as layers arrive, keyed by the role and block
 * their architecture declares; {@link #finish} builds the decoder graph from those roles and writes
 * {@code model.onnx} (weights inline below the protobuf limit, external data above), {@code genai_config.json},
 * {@code config.json} and the tokenizer files.
 */
final class OnnxExportSession implements ExportSession {

    /** Initializer bytes above which the weights stay in external data (protobuf messages stop at 2 GiB). */
    static final long EXTERNAL_DATA_THRESHOLD = 1_800_000_000L;
    static final String MODEL_FILE = "model.onnx";
    static final String DATA_FILE = "model.onnx.data";
    static final String MS_DOMAIN = "com.microsoft";
    static final long OPSET = 17;

    private static final Set<TensorRole> LINEARS = EnumSet.of(TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V,
            TensorRole.ATTN_OUT, TensorRole.FFN_GATE, TensorRole.FFN_UP, TensorRole.FFN_DOWN, TensorRole.OUTPUT);
    private static final Set<TensorRole> NORMS = EnumSet.of(TensorRole.ATTN_NORM, TensorRole.FFN_NORM,
            TensorRole.OUTPUT_NORM, TensorRole.ATTN_Q_NORM, TensorRole.ATTN_K_NORM);
    /** Rotary tables a checkpoint may store; the graph recomputes them from the config. */
    private static final Set<TensorRole> DERIVED = EnumSet.of(TensorRole.ROT_EMBD, TensorRole.ATTN_ROT_EMBD,
            TensorRole.ROPE_FREQS);

    /** A linear layer as the graph uses it: MatMulNBits inputs, or a float weight stored {@code [K, N]}. */
    record Linear(MatMulNBitsLayout q, String b, String scales, String zeros, String gIdx, String weightT) {
    }

    private final ExportContext ctx;
    private final TensorLayout layout;
    private final ArchitectureFacts facts;
    private final long externalThreshold;
    private final ElemType ft;
    private final float[] invFreq;
    private final OnnxGraph g;
    private final Map<String, Linear> linears = new HashMap<>();
    private final Map<String, String> floats = new HashMap<>();
    private final Set<String> done = new HashSet<>();
    private int quantizedCount;

    OnnxExportSession(ExportContext ctx, long externalThreshold) {
        this.ctx = ctx;
        this.layout = ctx.layout();
        this.facts = layout.facts();
        this.externalThreshold = externalThreshold;
        // refuse before anything is written: every source tensor needs a role the graph uses or recomputes
        DType embedType = null;
        for (String name : ctx.source().names()) {
            TensorSlot s = slot(name);
            if (!LINEARS.contains(s.role()) && !NORMS.contains(s.role()) && !DERIVED.contains(s.role())
                    && s.role() != TensorRole.TOKEN_EMBD) {
                throw new UnsupportedFeatureException("the ONNX decoder graph has no place for " + name + " (" + s.role()
                        + ") of this " + facts.name() + " model", "choose another --format (fake, auto_round, gguf ...)");
            }
            if (s.role() == TensorRole.TOKEN_EMBD && s.part() == TensorSlot.Part.WEIGHT) {
                embedType = ctx.source().info(name).map(i -> i.dtype()).orElse(DType.F32);
            }
        }
        // ONNX Runtime's CPU MatMulNBits takes float and float16 activations; bfloat16 models compute in float
        this.ft = embedType == DType.F16 ? ElemType.FLOAT16 : ElemType.FLOAT;
        String act = ctx.config().getString("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new UnsupportedFeatureException("the ONNX decoder graph's MLP uses SiLU; config.json has hidden_act '"
                    + act + "'", "choose another --format (fake, auto_round, gguf ...)");
        }
        this.invFreq = RopeFrequencies.of(ctx.config(), facts);
        this.g = new OnnxGraph(ctx.outputDir().resolve(DATA_FILE));
    }

    private TensorSlot slot(String name) {
        return layout.slotOf(name).orElseThrow(() -> new UnsupportedFeatureException("ONNX export does not know the"
                + " tensor " + name, "the " + facts.name() + " architecture plugin declares no role for it"));
    }

    private static String key(TensorSlot s) {
        return s.role() + "@" + s.block() + "#" + s.part();
    }

    @Override
    public synchronized void addQuantized(QuantizedLayer layer) {
        String hf = layer.name() + ".weight";
        TensorSlot s = slot(hf);
        if (!LINEARS.contains(s.role())) {
            throw new UnsupportedFeatureException("layer " + layer.name() + " (" + s.role() + ") is quantized, but the"
                    + " ONNX graph has no linear in that place", "keep it in full precision (--ignore_layers)");
        }
        IntegerGrid grid = layer.integerGrid().orElseThrow(() -> new UnsupportedFeatureException("layer " + layer.name()
                + " carries " + layer.payload().getClass().getSimpleName() + "; MatMulNBits holds integer grids only",
                "quantize it with an int data type for --format onnx"));
        MatMulNBitsLayout q = MatMulNBitsLayout.of(layer.spec());
        q.check(layer.name(), grid);
        String b = layer.name() + ".MatMulNBits.B";
        String sc = layer.name() + ".MatMulNBits.scales";
        String zp = layer.name() + ".MatMulNBits.zero_points";
        g.weight(b, ElemType.UINT8, new long[]{q.n(), q.kBlocks(), q.blobSize()}, ByteBuffer.wrap(q.packCodes(grid)));
        g.weight(sc, ft, new long[]{q.n(), q.kBlocks()}, ByteBuffer.wrap(OnnxGraph.encodeFloats(ft, grid.scales())));
        g.weight(zp, ElemType.UINT8, new long[]{q.n(), q.zeroPointBytesPerRow()}, ByteBuffer.wrap(q.packZeros(grid)));
        String gIdx = null;
        if (grid.actOrder()) {
            gIdx = layer.name() + ".MatMulNBits.g_idx";
            ByteBuffer gb = OnnxGraph.le(grid.gIdx().length * 4);
            for (int v : grid.gIdx()) {
                gb.putInt(v);
            }
            g.weight(gIdx, ElemType.INT32, new long[]{grid.gIdx().length}, gb.flip());
        }
        linears.put(key(s), new Linear(q, b, sc, zp, gIdx, null));
        done.add(hf);
        quantizedCount++;
        if (layer.bias() != null) {
            String bias = layer.name() + ".bias";
            addFloat(bias, slot(bias), layer.bias(), new long[]{layer.bias().length});
        }
    }

    @Override
    public synchronized void addTensor(String name, HostTensor tensor) {
        if (done.contains(name)) {
            return;
        }
        TensorSlot s = slot(name);
        done.add(name);
        if (DERIVED.contains(s.role()) || s.part() == TensorSlot.Part.BUFFER) {
            return;
        }
        if (s.role() == TensorRole.OUTPUT && s.part() == TensorSlot.Part.WEIGHT && facts.tiedEmbeddings()) {
            return;
        }
        float[] v = tensor.toFloats();
        long[] shape = tensor.shape();
        if (LINEARS.contains(s.role()) && s.part() == TensorSlot.Part.WEIGHT) {
            int n = (int) shape[0];
            int k = (int) shape[1];
            float[] t = new float[v.length];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < k; c++) {
                    t[c * n + r] = v[r * k + c];
                }
            }
            String wt = name + ".T";
            g.weight(wt, ft, new long[]{k, n}, ByteBuffer.wrap(OnnxGraph.encodeFloats(ft, t)));
            linears.put(key(s), new Linear(null, null, null, null, null, wt));
            return;
        }
        addFloat(name, s, v, shape);
    }

    private void addFloat(String name, TensorSlot s, float[] v, long[] shape) {
        g.weight(name, ft, shape, ByteBuffer.wrap(OnnxGraph.encodeFloats(ft, v)));
        floats.put(key(s), name);
        done.add(name);
    }

    @Override
    public synchronized void finish() {
        for (String name : ctx.source().names()) {
            if (!done.contains(name)) {
                addTensor(name, ctx.source().get(name));
            }
        }
        new DecoderGraph(g, facts, ft, invFreq, linears, floats).build();
        Path out = ctx.outputDir();
        boolean external = g.externalBytes() > externalThreshold;
        try {
            Map<String, Long> opsets = new LinkedHashMap<>();
            opsets.put("", OPSET);
            opsets.put(MS_DOMAIN, 1L);
            Map<String, String> md = new LinkedHashMap<>();
            md.put("jround.format", OnnxExporter.FORMAT);
            md.put("jround.quantized_linears", Integer.toString(quantizedCount));
            g.write(out.resolve(MODEL_FILE), external, DATA_FILE, opsets, "jround",
                    dev.jround.spi.PluginDescriptor.versionOf(getClass(), "1.0.0"), md);
            ObjectMapper om = new ObjectMapper();
            HfExportSession.writeText(out.resolve("genai_config.json"),
                    om.writerWithDefaultPrettyPrinter().writeValueAsString(genaiConfig(om)));
            HfExportSession.writeText(out.resolve("config.json"),
                    om.writerWithDefaultPrettyPrinter().writeValueAsString(ConfigJson.tree(ctx.config())));
            HfExportSession.copyAuxiliaryFiles(ctx.sourceDir(), out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the ONNX export in " + out, e);
        }
    }

    /** onnxruntime-genai's description of the decoder: file, input and output names, cache shape, search defaults. */
    private ObjectNode genaiConfig(ObjectMapper om) {
        ObjectNode root = om.createObjectNode();
        ObjectNode model = root.putObject("model");
        JsonNode cfg = ConfigJson.tree(ctx.config());
        model.set("bos_token_id", cfg.path("bos_token_id").isMissingNode() ? om.nullNode() : cfg.get("bos_token_id"));
        model.put("context_length", facts.contextLength());
        ObjectNode dec = model.putObject("decoder");
        dec.putObject("session_options").put("log_id", "onnxruntime-genai").putArray("provider_options");
        dec.put("filename", MODEL_FILE);
        dec.put("head_size", facts.headDim());
        dec.put("hidden_size", facts.embeddingLength());
        ObjectNode in = dec.putObject("inputs");
        in.put("input_ids", "input_ids");
        in.put("attention_mask", "attention_mask");
        in.put("position_ids", "position_ids");
        in.put("past_key_names", "past_key_values.%d.key");
        in.put("past_value_names", "past_key_values.%d.value");
        ObjectNode outs = dec.putObject("outputs");
        outs.put("logits", "logits");
        outs.put("present_key_names", "present.%d.key");
        outs.put("present_value_names", "present.%d.value");
        dec.put("num_attention_heads", facts.headCount());
        dec.put("num_hidden_layers", facts.blockCount());
        dec.put("num_key_value_heads", facts.headCountKv());
        JsonNode eos = cfg.path("eos_token_id");
        model.set("eos_token_id", eos.isMissingNode() ? om.nullNode() : eos);
        JsonNode pad = cfg.path("pad_token_id");
        model.set("pad_token_id", pad.isMissingNode() || pad.isNull() ? (eos.isArray() ? eos.get(0) : eos) : pad);
        model.put("type", ctx.config().modelType());
        model.put("vocab_size", facts.vocabSize());
        ObjectNode search = root.putObject("search");
        search.put("diversity_penalty", 0.0);
        search.put("do_sample", false);
        search.put("early_stopping", true);
        search.put("length_penalty", 1.0);
        search.put("max_length", facts.contextLength());
        search.put("min_length", 0);
        search.put("no_repeat_ngram_size", 0);
        search.put("num_beams", 1);
        search.put("num_return_sequences", 1);
        // present is past concatenated with the new keys, not a preallocated shared buffer
        search.put("past_present_share_buffer", false);
        search.put("repetition_penalty", 1.0);
        search.put("temperature", 1.0);
        search.put("top_k", 1);
        search.put("top_p", 1.0);
        return root;
    }

    @Override
    public synchronized void abort() {
        g.discard();
    }

    @Override
    public void close() {
        g.close();
    }
}
