package dev.jround.plugin.onnx;

import dev.jround.plugin.onnx.OnnxGraph.Dim;
import dev.jround.plugin.onnx.OnnxGraph.ElemType;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;

import java.util.Map;

/**
 * The decoder as ONNX nodes, in the input/output layout onnxruntime-genai and Optimum use: {@code input_ids},
 * {@code attention_mask}, {@code position_ids} and {@code past_key_values.N.key/value} in; {@code logits} and
 * {@code present.N.key/value} out. Each block is RMSNorm, rotary attention over the concatenated cache (key/value
 * heads shared by groups of query heads, causal and padding masks), a residual, RMSNorm, a SiLU-gated MLP and a
 * residual; every linear is MatMulNBits when quantized, MatMul otherwise. Norms and softmax run in float32 as
 * transformers' Llama does.
 */
final class DecoderGraph {

    private final OnnxGraph g;
    private final ArchitectureFacts f;
    private final ElemType ft;
    private final float[] invFreq;
    private final Map<String, OnnxExportSession.Linear> linears;
    private final Map<String, String> floats;
    private String eps;
    private String cos;
    private String sin;
    private String allowed;
    private String minValue;

    DecoderGraph(OnnxGraph g, ArchitectureFacts f, ElemType ft, float[] invFreq,
                 Map<String, OnnxExportSession.Linear> linears, Map<String, String> floats) {
        this.g = g;
        this.f = f;
        this.ft = ft;
        this.invFreq = invFreq;
        this.linears = linears;
        this.floats = floats;
    }

    private static String key(TensorRole role, int block, TensorSlot.Part part) {
        return role + "@" + block + "#" + part;
    }

    private String weightOf(TensorRole role, int block, boolean required) {
        String w = floats.get(key(role, block, TensorSlot.Part.WEIGHT));
        if (w == null && required) {
            throw missing(role, block);
        }
        return w;
    }

    private UnsupportedFeatureException missing(TensorRole role, int block) {
        return new UnsupportedFeatureException("the checkpoint has no " + role + " weight"
                + (block >= 0 ? " in block " + block : "") + ", which the ONNX decoder graph needs",
                "export a complete " + f.name() + " checkpoint");
    }

    void build() {
        int heads = f.headCount();
        int kvHeads = f.headCountKv();
        int hd = f.headDim();
        Dim batch = Dim.of("batch_size");
        Dim seq = Dim.of("sequence_length");
        Dim total = Dim.of("total_sequence_length");
        g.input("input_ids", ElemType.INT64, batch, seq);
        g.input("attention_mask", ElemType.INT64, batch, total);
        g.input("position_ids", ElemType.INT64, batch, seq);
        for (int l = 0; l < f.blockCount(); l++) {
            g.input("past_key_values." + l + ".key", ft, batch, Dim.of(kvHeads), Dim.of("past_sequence_length"), Dim.of(hd));
            g.input("past_key_values." + l + ".value", ft, batch, Dim.of(kvHeads), Dim.of("past_sequence_length"), Dim.of(hd));
        }
        g.output("logits", ft, batch, seq, Dim.of(f.vocabSize()));
        for (int l = 0; l < f.blockCount(); l++) {
            g.output("present." + l + ".key", ft, batch, Dim.of(kvHeads), total, Dim.of(hd));
            g.output("present." + l + ".value", ft, batch, Dim.of(kvHeads), total, Dim.of(hd));
        }
        eps = g.constScalar(ElemType.FLOAT, (float) f.normEps());
        minValue = g.constScalar(ElemType.FLOAT, -Float.MAX_VALUE);
        rotaryTables();
        mask();
        String embed = weightOf(TensorRole.TOKEN_EMBD, -1, true);
        String h = g.op("Gather").in(embed, "input_ids").attr("axis", 0L).out();
        for (int l = 0; l < f.blockCount(); l++) {
            h = block(h, l, heads, kvHeads, hd);
        }
        String x = rms(h, weightOf(TensorRole.OUTPUT_NORM, -1, true));
        String logits;
        OnnxExportSession.Linear out = linears.get(key(TensorRole.OUTPUT, -1, TensorSlot.Part.WEIGHT));
        if (out != null) {
            logits = linear(x, TensorRole.OUTPUT, -1);
        } else {
            // tied embeddings: the output projection is the embedding table
            String embT = g.op("Transpose").in(embed).attr("perm", new long[]{1, 0}).out();
            logits = g.op("MatMul").in(x, embT).out();
            String bias = floats.get(key(TensorRole.OUTPUT, -1, TensorSlot.Part.BIAS));
            if (bias != null) {
                logits = g.op("Add").in(logits, bias).out();
            }
        }
        g.op("Identity").in(logits).outNamed("logits");
    }

    /** cos and sin of position times inverse frequency, {@code [batch, 1, seq, head_dim]}, in the graph's type. */
    private void rotaryTables() {
        String inv = g.constFloats(ElemType.FLOAT, invFreq);
        String pos = g.op("Cast").in("position_ids").attr("to", (long) ElemType.FLOAT.code).out();
        String pos3 = g.op("Unsqueeze").in(pos, g.constInts(-1)).out();
        String freqs = g.op("Mul").in(pos3, inv).out();
        String emb = g.op("Concat").in(freqs, freqs).attr("axis", -1L).out();
        String c = g.op("Cos").in(emb).out();
        String s = g.op("Sin").in(emb).out();
        if (ft != ElemType.FLOAT) {
            c = g.op("Cast").in(c).attr("to", (long) ft.code).out();
            s = g.op("Cast").in(s).attr("to", (long) ft.code).out();
        }
        String axis1 = g.constInts(1);
        cos = g.op("Unsqueeze").in(c, axis1).out();
        sin = g.op("Unsqueeze").in(s, axis1).out();
    }

    /**
     * Which keys each query may see, {@code [batch, 1, 1, seq, total]}: key {@code j} for the query at absolute
     * position {@code past + i} when {@code j <= past + i} and the attention mask keeps {@code j}.
     */
    private void mask() {
        String one = g.constScalarInt(1);
        String zero = g.constScalarInt(0);
        String seqLen = g.op("Gather").in(g.op("Shape").in("input_ids").out(), one).attr("axis", 0L).out();
        String total = g.op("Gather").in(g.op("Shape").in("attention_mask").out(), one).attr("axis", 0L).out();
        String past = g.op("Sub").in(total, seqLen).out();
        String keys = g.op("Range").in(zero, total, one).out();
        String queries = g.op("Range").in(past, total, one).out();
        String queries2 = g.op("Unsqueeze").in(queries, g.constInts(1)).out();
        String causal = g.op("LessOrEqual").in(keys, queries2).out();
        String pad = g.op("Cast").in("attention_mask").attr("to", (long) ElemType.BOOL.code).out();
        String pad5 = g.op("Unsqueeze").in(pad, g.constInts(1, 2, 3)).out();
        allowed = g.op("And").in(causal, pad5).out();
    }

    private String toFloat(String x) {
        return ft == ElemType.FLOAT ? x : g.op("Cast").in(x).attr("to", (long) ElemType.FLOAT.code).out();
    }

    private String toModel(String x) {
        return ft == ElemType.FLOAT ? x : g.op("Cast").in(x).attr("to", (long) ft.code).out();
    }

    /** RMSNorm over the last axis: {@code w * x / sqrt(mean(x^2) + eps)}, the statistics in float32. */
    private String rms(String x, String w) {
        String xf = toFloat(x);
        String sq = g.op("Mul").in(xf, xf).out();
        String mean = g.op("ReduceMean").in(sq).attr("axes", new long[]{-1}).attr("keepdims", 1L).out();
        String root = g.op("Sqrt").in(g.op("Add").in(mean, eps).out()).out();
        String y = toModel(g.op("Div").in(xf, root).out());
        return g.op("Mul").in(y, w).out();
    }

    private String linear(String x, TensorRole role, int block) {
        OnnxExportSession.Linear lin = linears.get(key(role, block, TensorSlot.Part.WEIGHT));
        if (lin == null) {
            throw missing(role, block);
        }
        String y;
        if (lin.q() != null) {
            MatMulNBitsLayout q = lin.q();
            OnnxGraph.Node n = g.op("MatMulNBits", OnnxExportSession.MS_DOMAIN).in(x, lin.b(), lin.scales(), lin.zeros());
            if (lin.gIdx() != null) {
                n.in(lin.gIdx());
            }
            y = n.attr("K", (long) q.k()).attr("N", (long) q.n()).attr("bits", (long) q.bits())
                    .attr("block_size", (long) q.blockSize()).out();
        } else {
            y = g.op("MatMul").in(x, lin.weightT()).out();
        }
        String bias = floats.get(key(role, block, TensorSlot.Part.BIAS));
        return bias == null ? y : g.op("Add").in(y, bias).out();
    }

    /** {@code [batch, seq, heads*hd]} to {@code [batch, heads, seq, hd]}. */
    private String heads(String x, int n, int hd) {
        String r = g.op("Reshape").in(x, g.constInts(0, 0, n, hd)).out();
        return g.op("Transpose").in(r).attr("perm", new long[]{0, 2, 1, 3}).out();
    }

    /** {@code x*cos + rotate_half(x)*sin}, rotate_half being {@code [-x2, x1]} of the two halves. */
    private String rope(String x, int hd) {
        String[] halves = g.op("Split").in(x, g.constInts(hd / 2, hd / 2)).attr("axis", -1L).outs(2);
        String neg = g.op("Neg").in(halves[1]).out();
        String rot = g.op("Concat").in(neg, halves[0]).attr("axis", -1L).out();
        return g.op("Add").in(g.op("Mul").in(x, cos).out(), g.op("Mul").in(rot, sin).out()).out();
    }

    private String block(String h, int l, int heads, int kvHeads, int hd) {
        int rep = heads / kvHeads;
        String x = rms(h, weightOf(TensorRole.ATTN_NORM, l, true));
        String q = heads(linear(x, TensorRole.ATTN_Q, l), heads, hd);
        String k = heads(linear(x, TensorRole.ATTN_K, l), kvHeads, hd);
        String v = heads(linear(x, TensorRole.ATTN_V, l), kvHeads, hd);
        String qNorm = weightOf(TensorRole.ATTN_Q_NORM, l, false);
        if (qNorm != null) {
            q = rms(q, qNorm);
        }
        String kNorm = weightOf(TensorRole.ATTN_K_NORM, l, false);
        if (kNorm != null) {
            k = rms(k, kNorm);
        }
        q = rope(q, hd);
        k = rope(k, hd);
        String presentK = "present." + l + ".key";
        String presentV = "present." + l + ".value";
        g.op("Concat").in("past_key_values." + l + ".key", k).attr("axis", 2L).outNamed(presentK);
        g.op("Concat").in("past_key_values." + l + ".value", v).attr("axis", 2L).outNamed(presentV);
        // query heads grouped per key/value head: [b, kv, rep, s, hd] against [b, kv, 1, t, hd], broadcast by MatMul
        String q5 = g.op("Reshape").in(q, g.constInts(0, kvHeads, rep, -1, hd)).out();
        String axis2 = g.constInts(2);
        String k5 = g.op("Unsqueeze").in(presentK, axis2).out();
        String v5 = g.op("Unsqueeze").in(presentV, axis2).out();
        String kT = g.op("Transpose").in(k5).attr("perm", new long[]{0, 1, 2, 4, 3}).out();
        String scores = g.op("Mul").in(g.op("MatMul").in(q5, kT).out(), g.constScalar(ft, (float) (1.0 / Math.sqrt(hd)))).out();
        String masked = g.op("Where").in(allowed, toFloat(scores), minValue).out();
        String probs = toModel(g.op("Softmax").in(masked).attr("axis", -1L).out());
        String ctx5 = g.op("MatMul").in(probs, v5).out();
        String ctx4 = g.op("Reshape").in(ctx5, g.constInts(0, heads, -1, hd)).out();
        String ctx = g.op("Reshape").in(g.op("Transpose").in(ctx4).attr("perm", new long[]{0, 2, 1, 3}).out(),
                g.constInts(0, 0, (long) heads * hd)).out();
        h = g.op("Add").in(h, linear(ctx, TensorRole.ATTN_OUT, l)).out();
        x = rms(h, weightOf(TensorRole.FFN_NORM, l, true));
        String gate = linear(x, TensorRole.FFN_GATE, l);
        String act = g.op("Mul").in(gate, g.op("Sigmoid").in(gate).out()).out();
        String mlp = linear(g.op("Mul").in(act, linear(x, TensorRole.FFN_UP, l)).out(), TensorRole.FFN_DOWN, l);
        return g.op("Add").in(h, mlp).out();
    }
}
