package dev.jround.spi.pack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.SafetensorsCheckpoint;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A Hugging Face checkpoint whose integer layers are packed in one of the GPTQ/AWQ layouts
 * ({@code quant_method} {@code auto-round}, {@code gptq} or {@code awq}), or a plain float checkpoint
 * (the {@code fake} format), read back into the quantizer's terms: per Linear the integer codes, scales,
 * zero points, the dequantized weight and the resolved scheme. Works for checkpoints written by jround
 * and by the Python tools (AutoRound, AutoGPTQ/GPTQModel, AutoAWQ).
 */
public final class PackedCheckpoint implements AutoCloseable {

    /** What the checkpoint's config says it is. */
    public enum Kind {
        AUTO_ROUND("auto-round"), GPTQ("gptq"), AWQ("awq"), FLOAT("float");

        private final String method;

        Kind(String method) {
            this.method = method;
        }

        public String quantMethod() {
            return method;
        }
    }

    /** Block prefixes tried when the config names none. */
    static final List<String> STANDARD_BLOCKS = List.of("model.layers", "model.language_model.layers",
            "transformer.h", "model.decoder.layers", "gpt_neox.layers");

    private static final String[] PACKED_SUFFIXES = {"qweight", "qzeros", "scales", "g_idx"};

    private final Path dir;
    private final ModelConfig config;
    private final ObjectNode quantizationConfig;
    private final Kind kind;
    private final PackedLayout layout;
    private final String packingFormat;
    private final SafetensorsCheckpoint store;
    private final List<String> packedModules = new ArrayList<>();
    private final List<String> blockPrefixes;
    private final int defaultBits;
    private final int defaultGroup;
    private final boolean defaultSym;
    private final Map<String, JsonNode> overrides = new LinkedHashMap<>();

    private PackedCheckpoint(Path dir) {
        this.dir = dir;
        this.config = ModelConfig.read(dir);
        JsonNode qc = config.get("quantization_config");
        this.quantizationConfig = qc instanceof ObjectNode o ? o.deepCopy() : null;
        this.kind = kindOf(quantizationConfig, dir);
        ObjectNode q = quantizationConfig == null ? config.json().objectNode() : quantizationConfig;
        switch (kind) {
            case AUTO_ROUND -> {
                String dt = q.path("data_type").asText("int");
                if (!dt.contains("int")) {
                    throw new UnsupportedFeatureException(dir + " is an auto_round checkpoint with data_type '" + dt + "'",
                            "only integer auto_round checkpoints (packing auto_round, auto_round:auto_gptq, auto_round:gptqmodel, auto_round:auto_awq) can be read");
                }
                packingFormat = q.path("packing_format").asText("auto_round");
                if (packingFormat.contains("awq")) {
                    layout = PackedLayout.AWQ;
                } else if (packingFormat.contains("gptqmodel")) {
                    layout = PackedLayout.GPTQ_V2;
                } else if (packingFormat.contains("gptq")) {
                    layout = PackedLayout.GPTQ_V1;
                } else if (packingFormat.equals("auto_round") || packingFormat.equals("auto_round:exllamav2")
                        || packingFormat.equals("auto_round:tritonv2")) {
                    layout = PackedLayout.GPTQ_V2;
                } else {
                    throw new UnsupportedFeatureException(dir + " uses packing_format '" + packingFormat + "'",
                            "readable packings: auto_round, auto_round:auto_gptq, auto_round:gptqmodel, auto_round:auto_awq");
                }
                q.path("extra_config").fields().forEachRemaining(e -> overrides.put(e.getKey(), e.getValue()));
            }
            case GPTQ -> {
                String cf = q.path("checkpoint_format").asText("gptq");
                if (q.path("is_marlin_format").asBoolean(false) || cf.equals("marlin")) {
                    throw new UnsupportedFeatureException(dir + " is a Marlin-format GPTQ checkpoint",
                            "convert it to a plain GPTQ checkpoint (checkpoint_format gptq or gptq_v2) first");
                }
                if (!cf.equals("gptq") && !cf.equals("gptq_v2")) {
                    throw new UnsupportedFeatureException(dir + " has GPTQ checkpoint_format '" + cf + "'", "readable: gptq, gptq_v2");
                }
                layout = cf.equals("gptq_v2") ? PackedLayout.GPTQ_V2 : PackedLayout.GPTQ_V1;
                packingFormat = cf;
                for (Iterator<Map.Entry<String, JsonNode>> it = q.path("dynamic").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().startsWith("-:")) {
                        continue;
                    }
                    overrides.put(e.getKey().startsWith("+:") ? e.getKey().substring(2) : e.getKey(), e.getValue());
                }
            }
            case AWQ -> {
                String v = q.path("version").asText("gemm").toLowerCase(Locale.ROOT);
                if (!v.equals("gemm")) {
                    throw new UnsupportedFeatureException(dir + " is an AWQ '" + v + "' checkpoint", "only the GEMM layout (version gemm) can be read");
                }
                layout = PackedLayout.AWQ;
                packingFormat = "gemm";
            }
            default -> {
                layout = null;
                packingFormat = "";
            }
        }
        defaultBits = q.has("bits") ? q.get("bits").asInt() : q.path("w_bit").asInt(4);
        defaultGroup = q.has("group_size") ? q.get("group_size").asInt() : q.path("q_group_size").asInt(128);
        defaultSym = kind == Kind.AWQ ? q.path("sym").asBoolean(!q.path("zero_point").asBoolean(true))
                : q.path("sym").asBoolean(true);
        this.store = SafetensorsCheckpoint.open(dir);
        try {
            if (kind != Kind.FLOAT) {
                for (String n : store.names()) {
                    if (n.endsWith(".qweight")) {
                        String m = n.substring(0, n.length() - ".qweight".length());
                        for (String s : new String[]{"qzeros", "scales"}) {
                            if (!store.contains(m + "." + s)) {
                                throw new CorruptInputException(dir + ": packed layer " + m + " has qweight but no " + s,
                                        "a packed Linear needs qweight, qzeros and scales");
                            }
                        }
                        packedModules.add(m);
                    }
                }
            }
            this.blockPrefixes = resolveBlocks(q);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Opens a checkpoint directory; fails with a clear message for formats it does not read. */
    public static PackedCheckpoint open(Path dir) {
        return new PackedCheckpoint(dir);
    }

    /** Whether a directory holds config.json plus safetensors with a quantization_config this class reads (or none). */
    public static boolean readable(Path dir) {
        if (dir == null || !Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve("config.json"))) {
            return false;
        }
        try (var s = Files.list(dir)) {
            if (s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors"))) {
                return false;
            }
            JsonNode qc = ModelConfig.read(dir).get("quantization_config");
            if (qc == null || qc.isNull()) {
                return true;
            }
            String m = qc.path("quant_method").asText("");
            return m.equals("auto-round") || m.equals("intel/auto-round") || m.equals("gptq") || m.equals("awq");
        } catch (Exception e) {
            return false;
        }
    }

    private static Kind kindOf(ObjectNode qc, Path dir) {
        if (qc == null) {
            return Kind.FLOAT;
        }
        String m = qc.path("quant_method").asText("");
        return switch (m) {
            case "auto-round", "intel/auto-round" -> Kind.AUTO_ROUND;
            case "gptq" -> Kind.GPTQ;
            case "awq" -> Kind.AWQ;
            default -> throw new UnsupportedFeatureException(dir + "/config.json has quant_method '" + m + "'",
                    "readable quant_method values: auto-round, gptq, awq (or no quantization_config)");
        };
    }

    private List<String> resolveBlocks(ObjectNode q) {
        List<String> r = new ArrayList<>();
        for (String key : new String[]{"block_name_to_quantize", "to_quant_block_names"}) {
            JsonNode n = q.get(key);
            if (n == null || n.isNull()) {
                continue;
            }
            if (n.isTextual()) {
                for (String p : n.asText().split(",")) {
                    if (!p.isBlank()) {
                        r.add(p.trim());
                    }
                }
            } else if (n.isArray()) {
                n.forEach(e -> {
                    if (e.isTextual()) {
                        r.add(e.asText());
                    } else if (e.isArray() && !e.isEmpty()) {
                        // a list of block names: their common prefix without the index
                        String first = e.get(0).asText();
                        int dot = first.lastIndexOf('.');
                        r.add(dot < 0 ? first : first.substring(0, dot));
                    }
                });
            }
            if (!r.isEmpty()) {
                return r;
            }
        }
        for (String p : STANDARD_BLOCKS) {
            String head = p + ".0.";
            if (store.names().stream().anyMatch(n -> n.startsWith(head))) {
                r.add(p);
            }
        }
        return r;
    }

    public Path directory() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    /** config.json without its quantization_config. */
    public ObjectNode plainConfig() {
        ObjectNode c = config.json();
        c.remove("quantization_config");
        return c;
    }

    /** A copy of the quantization_config, or null for a float checkpoint. */
    public ObjectNode quantizationConfig() {
        return quantizationConfig == null ? null : quantizationConfig.deepCopy();
    }

    public Kind kind() {
        return kind;
    }

    /** The packed layout, or null for a float checkpoint. */
    public PackedLayout layout() {
        return layout;
    }

    public String packingFormat() {
        return packingFormat;
    }

    /** The raw tensors as stored. */
    public TensorStore tensors() {
        return store;
    }

    /** Modules stored packed, in checkpoint order. */
    public List<String> packedModules() {
        return Collections.unmodifiableList(packedModules);
    }

    public List<String> blockPrefixes() {
        return Collections.unmodifiableList(blockPrefixes);
    }

    /** Whether a stored tensor is part of a packed Linear (qweight, qzeros, scales, g_idx). */
    public boolean isPackedTensor(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            return false;
        }
        String suffix = name.substring(dot + 1);
        for (String s : PACKED_SUFFIXES) {
            if (s.equals(suffix)) {
                return store.contains(name.substring(0, dot) + ".qweight");
            }
        }
        return false;
    }

    /** Decoder block index of a module, or -1 outside the blocks. */
    public int blockIndex(String module) {
        for (String p : blockPrefixes) {
            if (module.startsWith(p + ".")) {
                String rest = module.substring(p.length() + 1);
                int end = rest.indexOf('.');
                String idx = end < 0 ? rest : rest.substring(0, end);
                if (!idx.isEmpty() && idx.chars().allMatch(Character::isDigit)) {
                    return Integer.parseInt(idx);
                }
            }
        }
        return -1;
    }

    /** The scheme the config gives a packed module (its overrides applied): bits, group size (as configured), sym. */
    public QuantScheme schemeOf(String module) {
        int bits = defaultBits;
        int group = defaultGroup;
        boolean sym = defaultSym;
        JsonNode o = override(module).orElse(null);
        if (o != null) {
            bits = o.path("bits").asInt(bits);
            group = o.path("group_size").asInt(group);
            sym = o.path("sym").asBoolean(sym);
        }
        return QuantScheme.intWeightOnly(bits, group, sym);
    }

    private Optional<JsonNode> override(String module) {
        JsonNode exact = overrides.get(module);
        if (exact != null) {
            return Optional.of(exact);
        }
        for (Map.Entry<String, JsonNode> e : overrides.entrySet()) {
            try {
                var m = Pattern.compile(e.getKey()).matcher(module);
                // auto-round's loader uses re.search, GPTQModel's dynamic uses re.match
                if (kind == Kind.GPTQ ? m.lookingAt() : m.find()) {
                    return Optional.of(e.getValue());
                }
            } catch (PatternSyntaxException ignored) {
                // a key that is not a valid regex can only match exactly, which was tried above
            }
        }
        return Optional.empty();
    }

    /**
     * Every Linear of the checkpoint as an export plan sees it: packed modules quantized with their scheme,
     * other 2-D {@code weight}s inside the blocks and {@code lm_head} in float; ordered by block, then
     * checkpoint order ({@code lm_head} and other outside layers last).
     */
    public List<LayerSpec> linearLayers() {
        List<LayerSpec> r = new ArrayList<>();
        for (String n : store.names()) {
            String module;
            LayerSpec spec;
            if (n.endsWith(".qweight") && packedModules.contains(module = n.substring(0, n.length() - 8))) {
                var t = store.info(n).orElseThrow();
                int out = layout == PackedLayout.AWQ ? (int) t.shape()[1] * 8 : (int) t.shape()[1];
                QuantScheme s = schemeOf(module);
                int in = layout == PackedLayout.AWQ ? (int) t.shape()[0] : (int) (t.shape()[0] * 32 / s.bits());
                spec = new LayerSpec(module, in, out, s, blockIndex(module), false, "packed in the checkpoint");
            } else if (n.endsWith(".weight")) {
                module = n.substring(0, n.length() - 7);
                var t = store.info(n).orElseThrow();
                boolean linear = t.shape().length == 2 && (blockIndex(module) >= 0 || module.equals("lm_head") || module.endsWith(".lm_head"));
                if (!linear) {
                    continue;
                }
                spec = new LayerSpec(module, (int) t.shape()[1], (int) t.shape()[0], QuantScheme.FULL_PRECISION,
                        blockIndex(module), false, "float in the checkpoint");
            } else {
                continue;
            }
            r.add(spec);
        }
        r.sort(java.util.Comparator.comparingInt((LayerSpec s) -> s.blockIndex() < 0 ? Integer.MAX_VALUE : s.blockIndex()));
        return r;
    }

    /** The integer contents of a packed module. */
    public PackedLayout.Unpacked unpack(String module) {
        if (!packedModules.contains(module)) {
            throw new InvalidInputException("no packed layer " + module + " in " + dir, "packed layers: " + packedModules.size());
        }
        QuantScheme s = schemeOf(module);
        return layout.unpack(module, store.get(module + ".qweight"), store.get(module + ".qzeros"),
                store.get(module + ".scales"), store.contains(module + ".g_idx") ? store.get(module + ".g_idx") : null,
                s.bits(), s.groupSize());
    }

    /**
     * A packed module as the quantizer's record. Zero points are the ones the consumers use; a GPTQ v1
     * all-ones field reads as {@code 2^b}. A non-trivial {@code g_idx} (act-order) is kept in
     * {@code extra["g_idx"]}, and the dequantized weight honours it.
     */
    public QuantizedLayer layer(String module) {
        PackedLayout.Unpacked u = unpack(module);
        QuantScheme s = schemeOf(module);
        LayerSpec spec = new LayerSpec(module, u.in(), u.out(), s, blockIndex(module), false,
                "read from " + kind.quantMethod() + " checkpoint " + dir.getFileName());
        float[] bias = store.contains(module + ".bias") ? store.floats(module + ".bias") : null;
        Map<String, Object> extra = u.gIdx() == null ? Map.of() : Map.of("g_idx", u.gIdx());
        return new QuantizedLayer(spec, u.groupSize(), u.codes(), u.scales(), u.zeros(), u.dequantize(), bias, extra);
    }

    @Override
    public void close() {
        store.close();
    }
}
