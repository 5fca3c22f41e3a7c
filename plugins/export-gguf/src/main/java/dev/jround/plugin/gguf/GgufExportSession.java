package dev.jround.plugin.gguf;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One GGUF export: every tensor is renamed, permuted where the llama graph needs it, given its type by the
 * mixture and encoded as it arrives; {@link #finish} adds whatever the kernel did not send from the source
 * checkpoint and writes the file atomically.
 */
final class GgufExportSession implements ExportSession {

    /** How tensors without a pipeline quantization are encoded. */
    enum Encoder { LLAMA_CPP, AUTOROUND }

    private final ExportContext ctx;
    private final GgufMix mix;
    private final String arch;
    private final ModelConfig cfg;
    private final GgufWriter writer;
    private final Path target;
    private final Encoder encoder;
    private final boolean tied;
    private final int nLayer;
    private final int heads;
    private final int kvHeads;
    private final Set<String> doneHf = new HashSet<>();
    /** Weights of in-block layers the run keeps in full precision (ignore_layers, to_quant_block_names, bits 16). */
    private final Set<String> keptFloat = new HashSet<>();

    GgufExportSession(ExportContext ctx, GgufMix mix, String arch) {
        this.ctx = ctx;
        this.mix = mix;
        this.arch = arch;
        this.cfg = ctx.config();
        this.nLayer = cfg.requireInt("num_hidden_layers");
        this.heads = cfg.requireInt("num_attention_heads");
        this.kvHeads = cfg.getInt("num_key_value_heads", heads);
        // a checkpoint without lm_head.weight reuses the embedding; llama.cpp then finds no output.weight either
        this.tied = cfg.getBoolean("tie_word_embeddings", false) || !ctx.source().contains("lm_head.weight");
        this.encoder = chooseEncoder(ctx.options());
        if (ctx.layers() != null) {
            for (LayerSpec s : ctx.layers()) {
                if (s.blockIndex() >= 0 && !s.quantized()) {
                    keptFloat.add(s.name() + ".weight");
                }
            }
        }
        String name = modelName(ctx);
        long params = parameterCount(ctx);
        Map<String, GgufValue> md = GgufModelMetadata.build(cfg, ctx.sourceDir(), mix, name, params);
        String fileName = name.replace(' ', '-').replace('/', '-') + "-" + GgufModelMetadata.sizeLabel(params) + "-"
                + mix.name() + ".gguf";
        this.target = ctx.outputDir().resolve(fileName);
        this.writer = new GgufWriter(target);
        md.forEach(writer::put);
    }

    static Encoder chooseEncoder(Map<String, Object> options) {
        Object e = options == null ? null : options.get("gguf_encoder");
        if (e != null) {
            String s = e.toString().toLowerCase(java.util.Locale.ROOT);
            if (s.equals("llama.cpp") || s.equals("llama_cpp") || s.equals("rtn")) {
                return Encoder.LLAMA_CPP;
            }
            if (s.equals("autoround") || s.equals("opt_rtn")) {
                return Encoder.AUTOROUND;
            }
            throw new InvalidInputException("unknown gguf_encoder '" + e + "'", "valid: llama.cpp, autoround");
        }
        Object d = options == null ? null : options.get("disable_opt_rtn");
        return d != null && Boolean.parseBoolean(d.toString()) ? Encoder.LLAMA_CPP : Encoder.AUTOROUND;
    }

    private static String modelName(ExportContext ctx) {
        Path dir = ctx.sourceDir() != null ? ctx.sourceDir() : ctx.config().directory();
        if (dir != null && dir.getFileName() != null) {
            return dir.toAbsolutePath().normalize().getFileName().toString();
        }
        return "model";
    }

    private static long parameterCount(ExportContext ctx) {
        long n = 0;
        for (String name : ctx.source().names()) {
            if (name.endsWith("rotary_emb.inv_freq")) {
                continue;
            }
            n += ctx.source().info(name).map(TensorInfo::numel).orElse(0L);
        }
        return n;
    }

    /** Path of the file this session writes. */
    Path target() {
        return target;
    }

    private int ngqa() {
        return kvHeads == 0 ? 1 : heads / kvHeads;
    }

    private GgmlType typeOf(String gguf, int nDims, long rowLength) {
        return mix.typeFor(new GgufMix.TensorRole(gguf, nDims, rowLength, GgufNames.layerOf(gguf), nLayer, ngqa(), !tied));
    }

    /** Heads to permute with for llama q/k tensors, or 0 when the tensor is left as it is. */
    private int permuteHeads(String gguf) {
        if (!arch.equals("llama")) {
            return 0;
        }
        if (gguf.endsWith("attn_q.weight") || gguf.endsWith("attn_q.bias")) {
            return heads;
        }
        if (gguf.endsWith("attn_k.weight") || gguf.endsWith("attn_k.bias")) {
            return kvHeads;
        }
        return 0;
    }

    private static String ggufName(String hf) {
        try {
            return GgufNames.toGguf(hf);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("GGUF export does not know the tensor " + hf,
                    "supported: the llama/qwen2/qwen3 decoder tensors (embed_tokens, layers.N.{self_attn,mlp,norms}, norm, lm_head)");
        }
    }

    @Override
    public synchronized void addQuantized(QuantizedLayer layer) {
        String hf = layer.name() + ".weight";
        String gguf = ggufName(hf);
        int rows = layer.rows();
        int cols = layer.cols();
        GgmlType type = typeOf(gguf, 2, cols);
        int ph = permuteHeads(gguf);
        float[] w = layer.dequantized();
        Object im = layer.extra() == null ? null : layer.extra().get("imatrix");
        float[] imatrix = im instanceof float[] f && f.length == cols ? f : null;
        byte[] data = null;
        Object blockType = layer.extra() == null ? null : layer.extra().get(GgufDataType.EXTRA_TYPE);
        Object blocks = layer.extra() == null ? null : layer.extra().get(GgufDataType.EXTRA_BLOCKS);
        if (type.name().equals(blockType) && blocks instanceof byte[] b && b.length == type.bytesFor((long) rows * cols)) {
            // encoded by the GGUF data type for exactly this type: write what the pipeline evaluated
            data = ph > 0 ? GgufNames.permuteRowsForLlama(b, rows, (int) type.bytesFor(cols), ph) : b;
        } else if (LegacyReencoder.matches(type, layer)) {
            data = LegacyReencoder.encode(type, layer, ph);
        }
        if (data == null) {
            if (blockType != null && ctx.source().contains(hf)) {
                // the GGUF data type's plain/optimized RTN for another type than the mix wants here: AutoRound would
                // have quantized this tensor straight to the mix's type, so start again from the source weights
                w = ctx.source().floats(hf);
            }
            if (ph > 0) {
                w = GgufNames.permuteForLlama(w, rows, cols, ph);
            }
            data = encode(type, w, rows, cols, imatrix);
        }
        writer.addTensor(gguf, new long[]{cols, rows}, type, data);
        doneHf.add(hf);
        if (layer.bias() != null) {
            String bhf = layer.name() + ".bias";
            addFloatTensor(bhf, layer.bias(), new long[]{layer.bias().length});
        }
    }

    private byte[] encode(GgmlType type, float[] w, int rows, int cols, float[] imatrix) {
        if (type.isFloat() || encoder == Encoder.LLAMA_CPP) {
            return GgmlQuants.quantizeReference(type, w);
        }
        return AutoRoundGgufRtn.quantize(type, w, rows, cols, imatrix);
    }

    @Override
    public synchronized void addTensor(String name, HostTensor tensor) {
        if (doneHf.contains(name)) {
            return;
        }
        if (name.equals("lm_head.weight") && tied) {
            doneHf.add(name);
            return;
        }
        addFloatTensor(name, tensor.toFloats(), tensor.shape(), keptType(name, tensor));
    }

    /**
     * A layer the run keeps in full precision is written in its source float type, as the auto_round and GPTQ
     * exports keep it; the mixture's quantized type would silently quantize it. {@code null}: the mixture decides.
     */
    private GgmlType keptType(String hf, HostTensor t) {
        if (!keptFloat.contains(hf)) {
            return null;
        }
        return switch (t.dtype()) {
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            default -> GgmlType.F32;
        };
    }

    private void addFloatTensor(String hf, float[] values, long[] torchShape) {
        addFloatTensor(hf, values, torchShape, null);
    }

    private void addFloatTensor(String hf, float[] values, long[] torchShape, GgmlType keep) {
        String gguf = ggufName(hf);
        doneHf.add(hf);
        if (gguf == null) {
            return;
        }
        long[] ne = new long[torchShape.length];
        for (int i = 0; i < ne.length; i++) {
            ne[i] = torchShape[torchShape.length - 1 - i];
        }
        int cols = (int) ne[0];
        int rows = values.length / Math.max(cols, 1);
        GgmlType type = keep != null ? keep : typeOf(gguf, ne.length, cols);
        int ph = permuteHeads(gguf);
        float[] w = values;
        if (ph > 0) {
            w = ne.length == 1 ? GgufNames.permuteForLlama(w, values.length, 1, ph) : GgufNames.permuteForLlama(w, rows, cols, ph);
        }
        writer.addTensor(gguf, ne, type, encode(type, w, rows, cols, null));
    }

    @Override
    public synchronized void finish() {
        for (String name : ctx.source().names()) {
            if (doneHf.contains(name) || (name.equals("lm_head.weight") && tied)) {
                continue;
            }
            HostTensor t = ctx.source().get(name);
            addFloatTensor(name, t.toFloats(), t.shape(), keptType(name, t));
        }
        float[] rope = GgufModelMetadata.llama3RopeFactors(cfg);
        if (rope != null && !writer.tensorNames().contains("rope_freqs.weight")) {
            writer.addTensor("rope_freqs.weight", new long[]{rope.length}, GgmlType.F32,
                    GgmlQuants.quantizeReference(GgmlType.F32, rope));
        }
        writer.finish(GgufNames::compare);
    }

    @Override
    public synchronized void abort() {
        writer.abort();
    }

    @Override
    public void close() {
        if (!writer.finished()) {
            writer.abort();
        }
    }
}
