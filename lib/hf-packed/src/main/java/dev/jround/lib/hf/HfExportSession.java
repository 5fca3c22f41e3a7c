package dev.jround.lib.hf;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;
import dev.jround.spi.tensor.TensorInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The common half of every Hugging Face style exporter (fake, auto_round, auto_gptq, auto_awq): streams
 * tensors into {@link SafetensorsWriter} shards as layers arrive, keeps the float tensors it is given,
 * and on {@link #finish} writes {@code config.json} (keys sorted, like transformers), the format's
 * {@code quantization_config.json}, and copies tokenizer, generation and custom-code files. Subclasses
 * say how one quantized layer becomes tensors and what the quantization config is.
 */
public abstract class HfExportSession implements ExportSession {

    /** Files copied verbatim from the source model directory when present. */
    public static final List<String> AUXILIARY_FILES = List.of(
            "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja",
            "chat_template.json", "preprocessor_config.json", "processor_config.json");

    protected final ExportContext ctx;
    protected final Map<String, LayerSpec> specs = new LinkedHashMap<>();
    private final SafetensorsWriter writer;
    private final Set<String> written = new HashSet<>();
    private final Set<String> received = new HashSet<>();
    private boolean quantizedLmHead;

    protected HfExportSession(ExportContext ctx) {
        this(ctx, Map.of("format", "pt"));
    }

    /** @param metadata the safetensors {@code __metadata__} of every shard (mlx-lm writes {@code format: mlx}) */
    protected HfExportSession(ExportContext ctx, Map<String, String> metadata) {
        this.ctx = ctx;
        for (LayerSpec s : ctx.layers()) {
            specs.put(s.name(), s);
        }
        try {
            Files.createDirectories(ctx.outputDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + ctx.outputDir(), e);
        }
        long limit = ctx.maxShardBytes() > 0 ? ctx.maxShardBytes() : 5_000_000_000L;
        this.writer = new SafetensorsWriter(ctx.outputDir(), "model", limit, metadata);
    }

    /** The tensors replacing a quantized layer's weight, under their parameter suffixes, in write order. */
    protected abstract Map<String, HostTensor> packLayer(QuantizedLayer layer);

    /** The bias of a quantized layer as this format stores it. */
    protected abstract HostTensor biasTensor(String module, float[] bias);

    /** The {@code quantization_config} object, or null for a plain float checkpoint. */
    protected abstract ObjectNode quantizationConfig();

    /** Final edits of config.json besides adding quantization_config (dtype fix-ups). */
    protected void editConfig(ObjectNode config) {
    }

    /** Extra files of the format (quantize_config.json, quant_config.json). */
    protected void writeExtraFiles(Path dir) throws IOException {
    }

    /** Whether the layout packs integer codes (false: it stores the dequantized weights only). */
    protected boolean storesIntegerCodes() {
        return true;
    }

    /** Validates a layer before it is packed; throw to refuse it. */
    protected void check(QuantizedLayer layer) {
    }

    @Override
    public void addQuantized(QuantizedLayer layer) {
        LayerSpec spec = specs.get(layer.name());
        if (spec == null || !spec.quantized()) {
            throw new IllegalStateException("layer " + layer.name() + " arrived quantized but the export plan "
                    + (spec == null ? "does not list it" : "keeps it in floating point"));
        }
        if (!(layer.payload() instanceof dev.jround.spi.quant.IntegerGrid g)) {
            // ggml blocks or float elements: only a session that stores dequantized weights takes them
            if (storesIntegerCodes()) {
                throw new dev.jround.spi.UnsupportedFeatureException("layer " + layer.name() + " (" + spec.scheme()
                        + ") has no integer codes to pack in format " + ctx.format(), "use --format fake or a gguf format for this scheme");
            }
        } else if (g.codes().length != (long) layer.rows() * layer.cols() || g.scales().length != (long) layer.rows() * g.groupsPerRow(layer.cols())
                || g.zeros().length != g.scales().length) {
            throw new IllegalArgumentException("layer " + layer.name() + ": codes/scales/zeros lengths do not match "
                    + layer.rows() + "x" + layer.cols() + " with group " + g.groupSize());
        }
        if (!received.add(layer.name())) {
            throw new IllegalStateException("layer " + layer.name() + " exported twice");
        }
        check(layer);
        for (Map.Entry<String, HostTensor> e : packLayer(layer).entrySet()) {
            write(layer.name() + "." + e.getKey(), e.getValue());
        }
        if (layer.bias() != null && !written.contains(layer.name() + ".bias")) {
            write(layer.name() + ".bias", biasTensor(layer.name(), layer.bias()));
        }
        if (spec.blockIndex() < 0 && layer.name().endsWith("lm_head")) {
            quantizedLmHead = true;
        }
    }

    @Override
    public void addTensor(String name, HostTensor tensor) {
        int dot = name.lastIndexOf('.');
        String module = dot < 0 ? "" : name.substring(0, dot);
        String param = name.substring(dot + 1);
        LayerSpec spec = specs.get(module);
        if (spec != null && spec.quantized()) {
            if (param.equals("weight")) {
                return; // replaced by the packed tensors
            }
            if (param.equals("bias")) {
                if (!written.contains(name)) {
                    write(name, biasTensor(module, tensor.toFloats()));
                }
                return;
            }
        }
        write(name, tensor);
    }

    protected final void write(String name, HostTensor t) {
        if (!written.add(name)) {
            throw new IllegalStateException("tensor " + name + " exported twice");
        }
        writer.add(name, t);
    }

    @Override
    public void finish() {
        List<String> missing = new ArrayList<>();
        for (LayerSpec s : specs.values()) {
            if (s.quantized() && !received.contains(s.name())) {
                missing.add(s.name());
            }
        }
        if (!missing.isEmpty()) {
            writer.close();
            throw new IllegalStateException("export incomplete: quantized layers never arrived: " + missing);
        }
        writer.finish();
        try {
            copyAuxiliaryFiles(ctx.sourceDir(), ctx.outputDir());
            ObjectNode config = ConfigJson.tree(ctx.config());
            config.remove("quantization_config");
            if (quantizedLmHead && config.path("tie_word_embeddings").asBoolean(false)) {
                // the quantized head can no longer share the embedding matrix
                config.put("tie_word_embeddings", false);
            }
            editConfig(config);
            ObjectNode qc = quantizationConfig();
            if (qc != null) {
                config.set("quantization_config", qc);
                writeText(ctx.outputDir().resolve("quantization_config.json"), PyJson.write(qc, false));
            }
            writeText(ctx.outputDir().resolve("config.json"), PyJson.write(config, true) + "\n");
            writeExtraFiles(ctx.outputDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the configuration files of " + ctx.outputDir(), e);
        }
    }

    @Override
    public void abort() {
        writer.close();
    }

    @Override
    public void close() {
        writer.close();
    }

    // ---- helpers for subclasses -------------------------------------------------------------------

    public static void writeText(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Copies tokenizer, generation-config, processor and custom modelling ({@code *.py}) files. */
    public static void copyAuxiliaryFiles(Path sourceDir, Path outDir) throws IOException {
        if (sourceDir == null || !Files.isDirectory(sourceDir)) {
            return;
        }
        List<Path> files = new ArrayList<>();
        for (String f : AUXILIARY_FILES) {
            Path p = sourceDir.resolve(f);
            if (Files.isRegularFile(p)) {
                files.add(p);
            }
        }
        try (Stream<Path> s = Files.list(sourceDir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".py") && Files.isRegularFile(p)).sorted().forEach(files::add);
        }
        for (Path p : files) {
            Files.copy(p, outDir.resolve(p.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Sets config.json's dtype keys the way the reference does when it forces a dtype ({@code dtype} and {@code torch_dtype}). */
    public static void forceDtype(ObjectNode config, String dtype) {
        config.put("dtype", dtype);
        config.put("torch_dtype", dtype);
    }

    /** The model's floating dtype: the source tensor's (F32/F16/BF16; fp8 sources give BF16), else config.json's {@code dtype}/{@code torch_dtype}, else F32. */
    protected DType modelDtype(String tensorName) {
        if (ctx.source() != null) {
            Optional<TensorInfo> info = ctx.source().info(tensorName);
            if (info.isPresent()) {
                switch (info.get().dtype()) {
                    case F32, F16, BF16 -> {
                        return info.get().dtype();
                    }
                    case F64 -> {
                        return DType.F32;
                    }
                    case F8_E4M3, F8_E5M2 -> {
                        return DType.BF16; // fp8 checkpoints compute in bf16
                    }
                    default -> {
                    }
                }
            }
        }
        String d = ctx.config().getString("dtype", ctx.config().getString("torch_dtype", "float32"));
        return switch (d) {
            case "float16", "half" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            default -> DType.F32;
        };
    }

    /** Quantized layer specs in model order. */
    protected List<LayerSpec> quantizedSpecs() {
        return specs.values().stream().filter(LayerSpec::quantized).toList();
    }

    /**
     * The run's default scheme, written as the top-level bits/group_size/sym/data_type: the {@code bits},
     * {@code group_size}, {@code sym}, {@code data_type} options when given, otherwise the scheme most
     * layers inside the blocks use (first in model order on ties).
     */
    protected QuantScheme defaultScheme() {
        Map<QuantScheme, Integer> count = new LinkedHashMap<>();
        for (LayerSpec s : quantizedSpecs()) {
            if (s.blockIndex() >= 0) {
                count.merge(s.scheme(), 1, Integer::sum);
            }
        }
        if (count.isEmpty()) {
            quantizedSpecs().forEach(s -> count.merge(s.scheme(), 1, Integer::sum));
        }
        QuantScheme base = QuantScheme.intWeightOnly(4, 128, true);
        int best = 0;
        for (Map.Entry<QuantScheme, Integer> e : count.entrySet()) {
            if (e.getValue() > best) {
                best = e.getValue();
                base = e.getKey();
            }
        }
        Map<String, Object> o = options();
        if (o.get("bits") instanceof Number b) {
            base = base.withBits(b.intValue());
        }
        if (o.get("group_size") instanceof Number g) {
            base = base.withGroupSize(g.intValue());
        }
        if (o.get("sym") instanceof Boolean sym) {
            base = base.withSym(sym);
        }
        if (o.get("data_type") instanceof String dt) {
            base = base.withDataType(dt);
        }
        return base;
    }

    protected Map<String, Object> options() {
        return ctx.options() == null ? Map.of() : ctx.options();
    }

    /** Group size as configs write it: {@code -1} for one group per row. */
    protected static int configGroupSize(QuantScheme s) {
        return s.groupSize() <= 0 ? -1 : s.groupSize();
    }

    /** bits, data_type, group_size, sym of the default scheme, then the tuning settings that differ from AutoRound's defaults. */
    protected void putSchemeAndTuning(ObjectNode qc, QuantScheme scheme) {
        qc.put("bits", scheme.bits());
        qc.put("data_type", scheme.dataType());
        qc.put("group_size", configGroupSize(scheme));
        qc.put("sym", scheme.sym());
        putTuning(qc);
    }

    /**
     * Tuning hyper-parameters from the options, each only when it differs from the AutoRound default (the
     * reference filters defaults the same way): amp, batch_size, enable_minmax_tuning,
     * enable_norm_bias_tuning, enable_quanted_input, gradient_accumulate_steps, iters, lr, low_gpu_mem_usage,
     * minmax_lr, nsamples, scale_dtype, seqlen. For RTN ({@code iters} 0) only amp, low_gpu_mem_usage,
     * scale_dtype and {@code enable_quanted_input: false} can appear, as in the reference.
     */
    protected void putTuning(ObjectNode qc) {
        Map<String, Object> o = options();
        Object itersObj = o.get("iters");
        int iters = itersObj instanceof Number n ? n.intValue() : 0;
        double defaultLr = iters > 0 ? 1.0 / iters : 0.005;
        Map<String, Object> defaults = new LinkedHashMap<>();
        defaults.put("amp", true);
        defaults.put("batch_size", 8);
        defaults.put("enable_minmax_tuning", true);
        defaults.put("enable_norm_bias_tuning", false);
        defaults.put("enable_quanted_input", true);
        defaults.put("gradient_accumulate_steps", 1);
        defaults.put("iters", 200);
        defaults.put("lr", defaultLr);
        defaults.put("low_gpu_mem_usage", false);
        defaults.put("minmax_lr", defaultLr);
        defaults.put("nsamples", 128);
        defaults.put("scale_dtype", "torch.float16");
        defaults.put("seqlen", 2048);
        ObjectMapper m = new ObjectMapper();
        // RTN (iters 0) has no tuning loop: the reference records none of its settings and reports
        // enable_quanted_input false
        boolean rtn = itersObj instanceof Number && iters == 0;
        List<String> notForRtn = List.of("iters", "lr", "minmax_lr", "nsamples", "seqlen", "batch_size",
                "gradient_accumulate_steps", "enable_minmax_tuning");
        for (Map.Entry<String, Object> d : defaults.entrySet()) {
            Object v = rtn && d.getKey().equals("enable_quanted_input") ? Boolean.FALSE : o.get(d.getKey());
            if (rtn && notForRtn.contains(d.getKey())) {
                continue;
            }
            if (v == null) {
                continue;
            }
            if (d.getKey().equals("scale_dtype")) {
                v = torchDtypeName(String.valueOf(v));
            }
            if (!sameValue(v, d.getValue())) {
                qc.set(d.getKey(), m.valueToTree(v));
            }
        }
    }

    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            double p = x.doubleValue();
            double q = y.doubleValue();
            return p == q || Math.abs(p - q) <= 1e-12 * Math.max(Math.abs(p), Math.abs(q));
        }
        return a.equals(b);
    }

    private static String torchDtypeName(String s) {
        return switch (s) {
            case "fp16", "float16", "half", "torch.float16" -> "torch.float16";
            case "bf16", "bfloat16", "torch.bfloat16" -> "torch.bfloat16";
            case "fp32", "float32", "float", "torch.float32" -> "torch.float32";
            default -> s;
        };
    }

    /** The producer string for {@code autoround_version}: the option when given, else {@code jround-<spi version>}. */
    protected String producerVersion() {
        Object v = options().get("autoround_version");
        return v != null ? v.toString() : "jround-" + PluginDescriptor.versionOf(HfExportSession.class, "0.1.0");
    }

    /** Comma-joined block prefixes ({@code model.layers}). */
    protected String blockNames() {
        List<String> p = ctx.blockPrefixes();
        return p == null || p.isEmpty() ? "model.layers" : String.join(",", p);
    }

    /** Checks the codes and zeros of a layer are inside what the layout stores exactly. */
    protected static void checkRanges(QuantizedLayer layer, int minZero, int maxZero, String format) {
        int maxCode = (1 << layer.bits()) - 1;
        for (int c : layer.grid().codes()) {
            if (c < 0 || c > maxCode) {
                throw new IllegalArgumentException("layer " + layer.name() + " has code " + c + " outside 0.." + maxCode);
            }
        }
        int[] z = layer.grid().zeros();
        for (int i = 0; i < z.length; i++) {
            if (z[i] < minZero || z[i] > maxZero) {
                int row = i / layer.groupsPerRow();
                int group = i % layer.groupsPerRow();
                throw new InvalidInputException("layer " + layer.name() + " (row " + row + ", group " + group
                        + ") has zero point " + z[i] + ", which " + format + " cannot store (it stores "
                        + minZero + ".." + maxZero + ")",
                        "GPTQ v1 packing cannot store an asymmetric zero point of 0; export asymmetric models with "
                                + "--format auto_round (native packing) or auto_awq (4-bit), or quantize symmetrically");
            }
        }
    }
}
