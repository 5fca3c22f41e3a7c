package dev.jround.lib.hf;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
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
        this.config = ConfigJson.read(dir);
        JsonNode qc = config.value("quantization_config").map(ConfigJson::node).orElse(null);
        if (qc != null && !qc.isNull() && !qc.isObject()) {
            throw new InvalidInputException(dir.resolve("config.json") + ": quantization_config is " + qc.getNodeType()
                    .toString().toLowerCase(Locale.ROOT) + " " + qc + ", expected an object",
                    "a quantized checkpoint's config.json holds \"quantization_config\": {\"quant_method\": ..., \"bits\": ...}");
        }
        this.quantizationConfig = qc instanceof ObjectNode o ? o.deepCopy() : null;
        this.kind = kindOf(quantizationConfig, dir);
        ObjectNode q = quantizationConfig == null ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode() : quantizationConfig;
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
        // every value is checked here, from config.json alone, before a tensor is opened
        String where = "quantization_config";
        if (kind == Kind.FLOAT) {
            defaultBits = 16;
            defaultGroup = -1;
            defaultSym = true;
        } else {
            defaultBits = bits(q, q.has("bits") || !q.has("w_bit") ? "bits" : "w_bit", 4, where, false);
            defaultGroup = groupSize(q, q.has("group_size") || !q.has("q_group_size") ? "group_size" : "q_group_size", 128, where);
            defaultSym = kind == Kind.AWQ ? bool(q, "sym", !bool(q, "zero_point", true, where), where) : bool(q, "sym", true, where);
            for (Map.Entry<String, JsonNode> e : overrides.entrySet()) {
                String w = where + "." + (kind == Kind.GPTQ ? "dynamic" : "extra_config") + "[\"" + e.getKey() + "\"]";
                if (!e.getValue().isObject()) {
                    throw invalidSetting(w + " is " + e.getValue() + ", expected an object such as {\"bits\": 8}");
                }
                bits(e.getValue(), "bits", defaultBits, w, true);
                groupSize(e.getValue(), "group_size", defaultGroup, w);
                bool(e.getValue(), "sym", defaultSym, w);
            }
        }
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
                checkOverridesNameLayers();
                for (String m : packedModules) {
                    checkHeaders(m);
                }
            }
            this.blockPrefixes = resolveBlocks(q);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** An integer bit width: 1..8 (4 for AWQ) for a packed layer, 16 or more (float) also allowed in an override. */
    private int bits(JsonNode owner, String key, int dflt, String where, boolean override) {
        int b = integer(owner, key, dflt, where);
        boolean packable = layout == PackedLayout.AWQ ? b == 4 : b >= 1 && b <= 8;
        if (!packable && !(override && (b == 16 || b == 32))) {
            throw invalidSetting(where + "." + key + " is " + b + "; " + kind.quantMethod() + " checkpoints with "
                    + packingFormat + " packing store " + (layout == PackedLayout.AWQ ? "4" : "1..8") + "-bit layers"
                    + (override ? " (or 16/32 for a layer kept in float)" : ""));
        }
        return b;
    }

    /** -1 or 0 (one group per output channel) or a positive group size. */
    private int groupSize(JsonNode owner, String key, int dflt, String where) {
        int g = integer(owner, key, dflt, where);
        if (g < -1) {
            throw invalidSetting(where + "." + key + " is " + g + "; valid group sizes are -1 (per channel) or a positive size such as 32 or 128");
        }
        return g;
    }

    private int integer(JsonNode owner, String key, int dflt, String where) {
        JsonNode v = owner.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw invalidSetting(where + "." + key + " is " + v + ", expected an integer");
        }
        return v.asInt();
    }

    private boolean bool(JsonNode owner, String key, boolean dflt, String where) {
        JsonNode v = owner.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw invalidSetting(where + "." + key + " is " + v + ", expected true or false");
        }
        return v.asBoolean();
    }

    private InvalidInputException invalidSetting(String what) {
        return new InvalidInputException(dir.resolve("config.json") + ": " + what,
                "fix the quantization_config of config.json, or re-export the checkpoint");
    }

    /**
     * An auto_round extra_config key that is a plain module name must name a module of the checkpoint: a stale
     * entry means config.json and the tensors disagree. {@code lm_head} may be tied to the embedding and absent.
     */
    private void checkOverridesNameLayers() {
        if (kind != Kind.AUTO_ROUND) {
            return;
        }
        for (String k : overrides.keySet()) {
            if (!k.matches("[A-Za-z0-9_.]+") || k.equals("lm_head") || k.endsWith(".lm_head")) {
                continue;
            }
            String head = k + ".";
            if (store.names().stream().noneMatch(n -> n.startsWith(head))) {
                throw new CorruptInputException(dir.resolve("config.json") + ": quantization_config.extra_config names "
                        + k + ", which has no tensor in the checkpoint",
                        "remove the stale extra_config entry, or use the config.json that came with these safetensors");
            }
        }
    }

    /** The dtypes and shapes of a packed layer's tensors agree with each other and its scheme (headers only). */
    private void checkHeaders(String m) {
        QuantScheme s = schemeOf(m);
        if (!s.quantizesWeights()) {
            throw new CorruptInputException(dir + ": " + m + ".qweight is packed but quantization_config."
                    + (kind == Kind.GPTQ ? "dynamic" : "extra_config") + " keeps " + m + " in float (" + s.bits() + " bits)", "make extra_config/dynamic agree with the tensors, or re-export the checkpoint");
        }
        try {
            layout.check(m, store.info(m + ".qweight").orElseThrow(), store.info(m + ".qzeros").orElseThrow(),
                    store.info(m + ".scales").orElseThrow(), store.info(m + ".g_idx").orElse(null), s.bits(), s.groupSize());
        } catch (CorruptInputException e) {
            throw new CorruptInputException(dir + ": " + e.getMessage(), e.hint(), e);
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
            JsonNode qc = ConfigJson.read(dir).value("quantization_config").map(ConfigJson::node).orElse(null);
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
        ObjectNode c = ConfigJson.tree(config);
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
        try {
            return layout.unpack(module, store.get(module + ".qweight"), store.get(module + ".qzeros"),
                    store.get(module + ".scales"), store.contains(module + ".g_idx") ? store.get(module + ".g_idx") : null,
                    s.bits(), s.groupSize());
        } catch (CorruptInputException e) {
            throw new CorruptInputException(dir + ": " + e.getMessage(), e.hint(), e);
        }
    }

    /**
     * A packed module as the quantizer's record. Zero points are the ones the consumers use; a GPTQ v1
     * all-ones field reads as {@code 2^b}. A non-trivial {@code g_idx} (act-order) is kept in
     * the grid's {@code gIdx}, and the dequantized weight honours it.
     */
    public QuantizedLayer layer(String module) {
        PackedLayout.Unpacked u = unpack(module);
        QuantScheme s = schemeOf(module);
        LayerSpec spec = new LayerSpec(module, u.in(), u.out(), s, blockIndex(module), false,
                "read from " + kind.quantMethod() + " checkpoint " + dir.getFileName());
        float[] bias = store.contains(module + ".bias") ? store.floats(module + ".bias") : null;
        return new QuantizedLayer(spec, new IntegerGrid(s.bits(), u.groupSize(), u.codes(), u.scales(), u.zeros(), u.gIdx()),
                u.dequantize(), bias, null);
    }

    @Override
    public void close() {
        store.close();
    }
}
