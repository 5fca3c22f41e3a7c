package dev.jround.plugin.gguf;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;
import dev.jround.spi.quant.GgmlBlocks;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One GGUF export: every tensor is named from the role its architecture declares, permuted where the
 * architecture says llama.cpp's graph needs it, given its type by the mixture and encoded as it arrives;
 * {@link #finish} adds whatever the kernel did not send from the source checkpoint and writes the file atomically.
 */
final class GgufExportSession implements ExportSession {

    /** How tensors without a pipeline quantization are encoded. */
    enum Encoder { LLAMA_CPP, AUTOROUND }

    private final ExportContext ctx;
    private final GgufMix mix;
    private final TensorLayout layout;
    private final ArchitectureFacts facts;
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

    GgufExportSession(ExportContext ctx, GgufMix mix, TensorLayout layout) {
        this.ctx = ctx;
        this.mix = mix;
        this.layout = layout;
        this.facts = layout.facts();
        this.cfg = ctx.config();
        this.nLayer = facts.blockCount();
        this.heads = facts.headCount();
        this.kvHeads = facts.headCountKv();
        // refuse before anything is written: every source tensor needs a role GGUF stores (or derives)
        boolean hasOutput = false;
        for (String name : ctx.source().names()) {
            ggufName(name);
            hasOutput |= isOutput(name);
        }
        // a checkpoint without an output projection reuses the embedding; llama.cpp then finds no output.weight either
        this.tied = facts.tiedEmbeddings() || !hasOutput;
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
        Map<String, GgufValue> md = GgufModelMetadata.build(facts, cfg, ctx.sourceDir(), mix, name, params,
                ctx.tokenizer() == null ? null : ctx.tokenizer().chatTemplate().orElse(null));
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
            if (ctx.layout().slotOf(name).map(s -> GgufNames.derived(s.role())).orElse(false)) {
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

    /** Heads to permute a q/k weight or bias with, or 0 when the tensor is left as it is. */
    private int permuteHeads(String hf) {
        if (!facts.llamaCpp().permuteQk()) {
            return 0;
        }
        return switch (slot(hf).role()) {
            case ATTN_Q -> heads;
            case ATTN_K -> kvHeads;
            default -> 0;
        };
    }

    private TensorSlot slot(String hf) {
        return layout.slotOf(hf).orElseThrow(() -> new InvalidInputException("GGUF export does not know the tensor " + hf,
                "the " + facts.name() + " architecture plugin declares no role for it"));
    }

    /** The tensor's GGUF name, or {@code null} when llama.cpp derives it and the file leaves it out. */
    private String ggufName(String hf) {
        TensorSlot s = slot(hf);
        if (GgufNames.derived(s.role())) {
            return null;
        }
        return GgufNames.of(s).orElseThrow(() -> new UnsupportedFeatureException("GGUF has no place for the tensor " + hf
                + " (" + s.role() + ", " + s.part() + ") of this " + facts.name() + " model",
                "choose another --format (auto_round, auto_gptq, fake ...) for this model"));
    }

    @Override
    public synchronized void addQuantized(QuantizedLayer layer) {
        String hf = layer.name() + ".weight";
        String gguf = ggufName(hf);
        int rows = layer.rows();
        int cols = layer.cols();
        GgmlType type = typeOf(gguf, 2, cols);
        int ph = permuteHeads(hf);
        float[] w = layer.dequantized();
        float[] imatrix = layer.importance().filter(f -> f.length == cols).orElse(null);
        byte[] data = null;
        String blockType = layer.payload() instanceof GgmlBlocks gb ? gb.type() : null;
        byte[] b = type.name().equals(blockType) ? ((GgmlBlocks) layer.payload()).blocks() : null;
        if (b != null && b.length == type.bytesFor((long) rows * cols)) {
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
        if (tied && isOutput(name)) {
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
        int ph = permuteHeads(hf);
        float[] w = values;
        if (ph > 0) {
            w = ne.length == 1 ? GgufNames.permuteForLlama(w, values.length, 1, ph) : GgufNames.permuteForLlama(w, rows, cols, ph);
        }
        writer.addTensor(gguf, ne, type, encode(type, w, rows, cols, null));
    }

    @Override
    public synchronized void finish() {
        for (String name : ctx.source().names()) {
            if (doneHf.contains(name) || (tied && isOutput(name))) {
                continue;
            }
            HostTensor t = ctx.source().get(name);
            addFloatTensor(name, t.toFloats(), t.shape(), keptType(name, t));
        }
        float[] rope = GgufModelMetadata.llama3RopeFactors(facts, cfg);
        if (rope != null && !writer.tensorNames().contains("rope_freqs.weight")) {
            writer.addTensor("rope_freqs.weight", new long[]{rope.length}, GgmlType.F32,
                    GgmlQuants.quantizeReference(GgmlType.F32, rope));
        }
        writer.finish(GgufNames::compare);
    }

    private boolean isOutput(String hf) {
        TensorSlot s = layout.slotOf(hf).orElse(null);
        return s != null && s.role() == TensorRole.OUTPUT && s.part() == TensorSlot.Part.WEIGHT;
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
