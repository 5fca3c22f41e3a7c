package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The GGUF metadata of a model llama.cpp runs: general keys, the hyper-parameters its architecture plugin states
 * ({@link ArchitectureFacts}), rope scaling and the tokenizer (SentencePiece-style or byte-level BPE) from
 * {@code config.json} and the tokenizer files of the source directory.
 */
public final class GgufModelMetadata {

    static final int TOKEN_NORMAL = 1;
    static final int TOKEN_UNKNOWN = 2;
    static final int TOKEN_CONTROL = 3;
    static final int TOKEN_USER_DEFINED = 4;
    static final int TOKEN_UNUSED = 5;
    static final int TOKEN_BYTE = 6;

    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufModelMetadata() {
    }

    /** {@code 231K}, {@code 8.0B} ...: the gguf naming convention's rounded parameter count. */
    public static String sizeLabel(long params) {
        double scaled;
        String suffix;
        if (params > 1e12) {
            scaled = params * 1e-12;
            suffix = "T";
        } else if (params > 1e9) {
            scaled = params * 1e-9;
            suffix = "B";
        } else if (params > 1e6) {
            scaled = params * 1e-6;
            suffix = "M";
        } else {
            scaled = params * 1e-3;
            suffix = "K";
        }
        String rounded = Long.toString(Math.round(scaled)).replaceFirst("^0+", "");
        int fix = Math.max(2 - rounded.length(), 0);
        return String.format(Locale.ROOT, "%." + fix + "f", scaled) + suffix;
    }

    /**
     * General, hyper-parameter and tokenizer keys in the order the reference converter writes them. The
     * hyper-parameters come from the architecture's facts; {@code cfg} still gives rope scaling and special token ids.
     *
     * @param facts  the architecture's facts; {@code facts.llamaCpp()} must be set
     * @param name   {@code general.name}
     * @param params total parameter count (for {@code general.size_label})
     */
    public static Map<String, GgufValue> build(ArchitectureFacts facts, ModelConfig cfg, Path sourceDir, GgufMix mix,
                                               String name, long params) {
        return build(facts, cfg, sourceDir, mix, name, params, null);
    }

    /**
     * @param chatTemplate the run's tokenizer's default chat template ({@code ExportContext.tokenizer()}), which wins
     *                     over the files in {@code sourceDir}; {@code null} to read the files
     */
    public static Map<String, GgufValue> build(ArchitectureFacts facts, ModelConfig cfg, Path sourceDir, GgufMix mix,
                                               String name, long params, String chatTemplate) {
        ArchitectureFacts.LlamaCpp lc = facts.llamaCpp();
        if (lc == null) {
            throw new UnsupportedFeatureException("llama.cpp has no " + facts.name() + " architecture",
                    "choose another --format for this model");
        }
        String arch = lc.architecture();
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.string(arch));
        md.put("general.type", GgufValue.string("model"));
        md.put("general.name", GgufValue.string(name));
        md.put("general.size_label", GgufValue.string(sizeLabel(params)));
        md.put(arch + ".block_count", GgufValue.uint32(facts.blockCount()));
        md.put(arch + ".context_length", GgufValue.uint32(facts.contextLength()));
        md.put(arch + ".embedding_length", GgufValue.uint32(facts.embeddingLength()));
        md.put(arch + ".feed_forward_length", GgufValue.uint32(facts.feedForwardLength()));
        md.put(arch + ".attention.head_count", GgufValue.uint32(facts.headCount()));
        md.put(arch + ".attention.head_count_kv", GgufValue.uint32(facts.headCountKv()));
        if (!Double.isNaN(facts.ropeFreqBase())) {
            md.put(arch + ".rope.freq_base", GgufValue.float32(facts.ropeFreqBase()));
        }
        md.put(arch + (facts.norm() == ArchitectureFacts.Norm.RMS ? ".attention.layer_norm_rms_epsilon"
                : ".attention.layer_norm_epsilon"), GgufValue.float32(facts.normEps()));
        if (facts.headDimStated()) {
            md.put(arch + ".attention.key_length", GgufValue.uint32(facts.headDim()));
            md.put(arch + ".attention.value_length", GgufValue.uint32(facts.headDim()));
        }
        md.put("general.file_type", GgufValue.uint32(mix.fileType()));
        if (lc.vocabAndRopeKeys()) {
            md.put(arch + ".vocab_size", GgufValue.uint32(facts.vocabSize()));
            md.put(arch + ".rope.dimension_count", GgufValue.uint32(facts.ropeDimensionCount()));
        }
        ropeScaling(cfg, arch, md);
        md.put("general.quantization_version", GgufValue.uint32(2));
        tokenizer(cfg, facts.vocabSize(), sourceDir, chatTemplate, md);
        return md;
    }

    /** The rope scaling object ({@code rope_scaling} or newer {@code rope_parameters}), or null. */
    static JsonNode ropeScalingNode(ModelConfig cfg) {
        return cfg.value("rope_scaling").or(() -> cfg.value("rope_parameters")).map(ConfigJson::node).orElse(null);
    }

    static String ropeType(JsonNode s) {
        if (s == null) {
            return "";
        }
        return s.path("rope_type").asText(s.path("type").asText(""));
    }

    private static void ropeScaling(ModelConfig cfg, String arch, Map<String, GgufValue> md) {
        JsonNode s = ropeScalingNode(cfg);
        String type = ropeType(s);
        if (type.equals("linear") || type.equals("yarn")) {
            md.put(arch + ".rope.scaling.type", GgufValue.string(type));
            md.put(arch + ".rope.scaling.factor", GgufValue.float32(s.path("factor").asDouble(1.0)));
            if (type.equals("yarn")) {
                if (s.has("original_max_position_embeddings")) {
                    md.put(arch + ".rope.scaling.original_context_length",
                            GgufValue.uint32(s.get("original_max_position_embeddings").asInt()));
                }
                putIf(md, arch + ".rope.scaling.yarn_ext_factor", s, "extrapolation_factor");
                putIf(md, arch + ".rope.scaling.yarn_attn_factor", s, s.has("attention_factor") ? "attention_factor" : "attn_factor");
                putIf(md, arch + ".rope.scaling.yarn_beta_fast", s, "beta_fast");
                putIf(md, arch + ".rope.scaling.yarn_beta_slow", s, "beta_slow");
            }
        }
    }

    private static void putIf(Map<String, GgufValue> md, String key, JsonNode s, String field) {
        if (s.has(field) && s.get(field).isNumber()) {
            md.put(key, GgufValue.float32(s.get(field).asDouble()));
        }
    }

    /** Llama-3 rope frequency factors ({@code rope_freqs.weight}), or null when the config has no llama3 rope. */
    public static float[] llama3RopeFactors(ArchitectureFacts facts, ModelConfig cfg) {
        JsonNode s = ropeScalingNode(cfg);
        if (!ropeType(s).equals("llama3") || facts.ropeDimensionCount() <= 0) {
            return null;
        }
        double base = Double.isNaN(facts.ropeFreqBase()) ? 10000 : facts.ropeFreqBase();
        int rot = facts.ropeDimensionCount();
        double factor = s.path("factor").asDouble(8.0);
        double low = s.path("low_freq_factor").asDouble(1.0);
        double high = s.path("high_freq_factor").asDouble(4.0);
        double old = s.path("original_max_position_embeddings").asDouble(8192);
        double lowWavelen = old / low;
        double highWavelen = old / high;
        float[] f = new float[rot / 2];
        for (int i = 0; i < rot / 2; i++) {
            double freq = 1.0 / Math.pow(base, 2.0 * i / rot);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                f[i] = 1f;
            } else if (wavelen > lowWavelen) {
                f[i] = (float) factor;
            } else {
                double smooth = (old / wavelen - low) / (high - low);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    // ------------------------------------------------------------------ tokenizer

    private static JsonNode readJson(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new CorruptInputException("cannot parse " + p + ": " + e.getMessage(), "the tokenizer files must be valid JSON", e);
        }
    }

    private static void tokenizer(ModelConfig cfg, int vocabSize, Path dir, String chatTemplate, Map<String, GgufValue> md) {
        JsonNode tj = readJson(dir.resolve("tokenizer.json"));
        JsonNode tc = readJson(dir.resolve("tokenizer_config.json"));
        Path spModel = dir.resolve("tokenizer.model");
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        List<String> merges = null;
        String model;
        String pre;
        if (Files.isRegularFile(spModel)) {
            model = "llama";
            pre = "default";
            sentencePieceVocab(spModel, tokens, scores, types);
            applySpmAddedTokens(dir, tc, tokens, scores, types);
        } else if (tj != null && tj.path("model").path("type").asText("").equals("BPE")) {
            if (isByteLevel(tj)) {
                model = "gpt2";
                pre = preTokenizer(cfg, vocabSize);
                merges = bpeMerges(tj);
                byteLevelVocab(tj, tokens, types);
                scores = null;
            } else {
                model = "llama";
                pre = "default";
                spmStyleBpeVocab(tj, tokens, scores, types);
            }
        } else {
            throw new UnsupportedFeatureException("GGUF export found no usable tokenizer in " + dir,
                    "GGUF needs tokenizer.model (SentencePiece) or a BPE tokenizer.json");
        }
        if (tokens.size() > vocabSize) {
            throw new CorruptInputException("the tokenizer of " + dir + " has " + tokens.size() + " tokens but vocab_size is "
                    + vocabSize, "config.json vocab_size must cover every token id");
        }
        for (int id = tokens.size(); id < vocabSize; id++) {
            tokens.add("[PAD" + id + "]");
            types.add((long) TOKEN_UNUSED);
            if (scores != null) {
                scores.add(-1000f);
            }
        }
        md.put("tokenizer.ggml.model", GgufValue.string(model));
        md.put("tokenizer.ggml.pre", GgufValue.string(pre));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        if (scores != null) {
            md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        }
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        if (merges != null) {
            md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
        }
        specialTokens(cfg, tj, tc, tokens, vocabSize, md);
        chatTemplate(dir, tc, md);
        if (chatTemplate != null) {
            // the tokenizer plugin's choice (chat_template.jinja over tokenizer_config.json) is what the run rendered
            md.put("tokenizer.chat_template", GgufValue.string(chatTemplate));
        }
    }

    static boolean isByteLevel(JsonNode tj) {
        return containsType(tj.path("pre_tokenizer"), "ByteLevel") || containsType(tj.path("decoder"), "ByteLevel");
    }

    private static boolean containsType(JsonNode n, String type) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (type.equals(n.path("type").asText())) {
            return true;
        }
        for (String list : new String[]{"pretokenizers", "decoders", "normalizers"}) {
            for (JsonNode c : n.path(list)) {
                if (containsType(c, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String preTokenizer(ModelConfig cfg, int vocabSize) {
        String mt = cfg.modelType().toLowerCase(Locale.ROOT);
        if (mt.equals("qwen2") || mt.equals("qwen3")) {
            return "qwen2";
        }
        if (mt.equals("llama") && vocabSize >= 128000) {
            return "llama-bpe";
        }
        throw new UnsupportedFeatureException("GGUF export cannot tell llama.cpp's pre-tokenizer for this byte-level BPE "
                + mt + " tokenizer", "supported byte-level BPE vocabularies: Llama 3.x (llama-bpe) and Qwen 1.5-3 (qwen2)");
    }

    private static List<String> bpeMerges(JsonNode tj) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : tj.path("model").path("merges")) {
            if (m.isTextual()) {
                out.add(m.asText());
            } else if (m.isArray() && m.size() == 2) {
                out.add(m.get(0).asText().replace(" ", "\u0120") + " " + m.get(1).asText().replace(" ", "\u0120"));
            }
        }
        return out;
    }

    private static boolean looksSpecial(String s) {
        return (s.startsWith("<|") && s.endsWith("|>")) || s.equals("<pad>") || s.equals("<mask>") || s.startsWith("<unused");
    }

    private static List<String> vocabById(JsonNode tj) {
        Map<Integer, String> byId = new HashMap<>();
        int max = -1;
        var it = tj.path("model").path("vocab").fields();
        while (it.hasNext()) {
            var e = it.next();
            int id = e.getValue().asInt();
            byId.put(id, e.getKey());
            max = Math.max(max, id);
        }
        for (JsonNode a : tj.path("added_tokens")) {
            byId.put(a.path("id").asInt(), a.path("content").asText());
            max = Math.max(max, a.path("id").asInt());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i <= max; i++) {
            out.add(byId.get(i));
        }
        return out;
    }

    /** tokenizer.json's {@code added_tokens}, by id. */
    private static Map<Integer, JsonNode> addedTokensById(JsonNode tj) {
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode a : tj.path("added_tokens")) {
            added.put(a.path("id").asInt(), a);
        }
        return added;
    }

    private static void byteLevelVocab(JsonNode tj, List<String> tokens, List<Long> types) {
        List<String> byId = vocabById(tj);
        Map<Integer, JsonNode> added = addedTokensById(tj);
        for (int id = 0; id < byId.size(); id++) {
            String t = byId.get(id);
            if (t == null) {
                tokens.add("[PAD" + id + "]");
                types.add((long) TOKEN_UNUSED);
                continue;
            }
            tokens.add(t);
            JsonNode a = added.get(id);
            if (a != null) {
                types.add((long) (a.path("special").asBoolean(false) || looksSpecial(t) ? TOKEN_CONTROL : TOKEN_USER_DEFINED));
            } else {
                types.add((long) TOKEN_NORMAL);
            }
        }
    }

    /**
     * A SentencePiece-converted BPE {@code tokenizer.json} (byte fallback, U+2581 spaces) as a llama.cpp
     * SentencePiece vocabulary. llama.cpp's SPM tokenizer merges the pair whose result has the highest
     * score, so a token made by merge rank {@code r} scores {@code -r}: the same priority the BPE merges
     * have. Byte, control and unused tokens score -1000, base characters 0.
     */
    private static void spmStyleBpeVocab(JsonNode tj, List<String> tokens, List<Float> scores, List<Long> types) {
        List<String> byId = vocabById(tj);
        Map<String, Integer> mergeRank = new HashMap<>();
        int rank = 0;
        for (JsonNode m : tj.path("model").path("merges")) {
            String merged;
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ');
                merged = sp < 0 ? s : s.substring(0, sp) + s.substring(sp + 1);
            } else {
                merged = m.get(0).asText() + m.get(1).asText();
            }
            mergeRank.putIfAbsent(merged, rank++);
        }
        Map<Integer, JsonNode> added = addedTokensById(tj);
        for (int id = 0; id < byId.size(); id++) {
            String t = byId.get(id);
            if (t == null) {
                tokens.add("[PAD" + id + "]");
                types.add((long) TOKEN_UNUSED);
                scores.add(-1000f);
                continue;
            }
            tokens.add(t);
            JsonNode a = added.get(id);
            if (a != null) {
                boolean control = a.path("special").asBoolean(false) || looksSpecial(t);
                types.add((long) (control ? TOKEN_CONTROL : TOKEN_USER_DEFINED));
                scores.add(-1000f);
            } else if (t.matches("<0x[0-9A-Fa-f]{2}>")) {
                types.add((long) TOKEN_BYTE);
                scores.add(-1000f);
            } else {
                types.add((long) TOKEN_NORMAL);
                Integer r = mergeRank.get(t);
                scores.add(r == null ? 0f : -(float) r);
            }
        }
    }

    /** Parses the pieces of a SentencePiece {@code ModelProto} (field 1: repeated piece, score, type). */
    static void sentencePieceVocab(Path file, List<String> tokens, List<Float> scores, List<Long> types) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CorruptInputException("cannot read " + file, null, e);
        }
        int[] pos = {0};
        while (pos[0] < b.length) {
            long key = varint(b, pos);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                int len = (int) varint(b, pos);
                int end = pos[0] + len;
                String piece = "";
                float score = 0;
                long type = 1;
                while (pos[0] < end) {
                    long k = varint(b, pos);
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (f == 1 && w == 2) {
                        int l = (int) varint(b, pos);
                        piece = new String(b, pos[0], l, StandardCharsets.UTF_8);
                        pos[0] += l;
                    } else if (f == 2 && w == 5) {
                        score = Float.intBitsToFloat((b[pos[0]] & 0xFF) | (b[pos[0] + 1] & 0xFF) << 8
                                | (b[pos[0] + 2] & 0xFF) << 16 | (b[pos[0] + 3] & 0xFF) << 24);
                        pos[0] += 4;
                    } else if (f == 3 && w == 0) {
                        type = varint(b, pos);
                    } else {
                        skip(b, pos, w, file);
                    }
                }
                tokens.add(piece);
                scores.add(score);
                types.add(type);
            } else {
                skip(b, pos, wire, file);
            }
        }
    }

    private static long varint(byte[] b, int[] pos) {
        long v = 0;
        int shift = 0;
        while (true) {
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
            shift += 7;
        }
    }

    private static void skip(byte[] b, int[] pos, int wire, Path file) {
        switch (wire) {
            case 0 -> varint(b, pos);
            case 1 -> pos[0] += 8;
            case 2 -> {
                int len = (int) varint(b, pos);
                pos[0] += len;
            }
            case 5 -> pos[0] += 4;
            default -> throw new CorruptInputException(file + " is not a SentencePiece model (wire type " + wire + ")", null);
        }
    }

    private static void applySpmAddedTokens(Path dir, JsonNode tc, List<String> tokens, List<Float> scores, List<Long> types) {
        JsonNode added = readJson(dir.resolve("added_tokens.json"));
        if (added != null) {
            var it = added.fields();
            while (it.hasNext()) {
                var e = it.next();
                setToken(tokens, scores, types, e.getValue().asInt(), e.getKey(), TOKEN_USER_DEFINED);
            }
        }
        if (tc != null) {
            var it = tc.path("added_tokens_decoder").fields();
            while (it.hasNext()) {
                var e = it.next();
                int id = Integer.parseInt(e.getKey());
                String content = e.getValue().path("content").asText();
                boolean control = e.getValue().path("special").asBoolean(false) || looksSpecial(content);
                setToken(tokens, scores, types, id, control ? content : content.replace("\u2581", " "),
                        control ? TOKEN_CONTROL : TOKEN_USER_DEFINED);
            }
        }
    }

    private static void setToken(List<String> tokens, List<Float> scores, List<Long> types, int id, String text, int type) {
        while (tokens.size() <= id) {
            tokens.add("[PAD" + tokens.size() + "]");
            scores.add(-1000f);
            types.add((long) TOKEN_UNUSED);
        }
        tokens.set(id, text);
        scores.set(id, -1000f);
        types.set(id, (long) type);
    }

    private static final String[][] SPECIAL_KEYS = {
            {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"}, {"sep", "seperator_token_id"},
            {"pad", "padding_token_id"}, {"cls", "cls_token_id"}, {"mask", "mask_token_id"}};

    private static void specialTokens(ModelConfig cfg, JsonNode tj, JsonNode tc, List<String> tokens, int vocabSize,
                                      Map<String, GgufValue> md) {
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            idOf.putIfAbsent(tokens.get(i), i);
        }
        if (tj != null) {
            for (JsonNode a : tj.path("added_tokens")) {
                idOf.put(a.path("content").asText(), a.path("id").asInt());
            }
        }
        Map<String, Long> ids = new LinkedHashMap<>();
        for (String[] k : SPECIAL_KEYS) {
            Long id = null;
            if (tc != null) {
                JsonNode e = tc.get(k[0] + "_token");
                String content = e == null || e.isNull() ? null : e.isTextual() ? e.asText() : e.path("content").asText(null);
                if (content != null && idOf.containsKey(content)) {
                    id = (long) idOf.get(content);
                }
            }
            if (id == null && cfg.has(k[0] + "_token_id")) {
                JsonNode n = ConfigJson.node(cfg.value(k[0] + "_token_id").orElseThrow());
                JsonNode v = n.isArray() && !n.isEmpty() ? n.get(0) : n;
                if (v.isNumber() && v.asLong() >= 0 && v.asLong() < vocabSize) {
                    id = v.asLong();
                }
            }
            if (id != null) {
                ids.put(k[1], id);
            }
        }
        for (var e : ids.entrySet()) {
            md.put("tokenizer.ggml." + e.getKey(), GgufValue.uint32(e.getValue()));
        }
        Map<String, Boolean> add = new LinkedHashMap<>();
        templateAddFlags(tj, tc, add);
        if (tc != null) {
            for (String typ : new String[]{"bos", "eos", "sep"}) {
                JsonNode v = tc.get("add_" + typ + "_token");
                if (v != null && v.isBoolean()) {
                    add.put(typ, v.asBoolean());
                }
            }
        }
        for (var e : add.entrySet()) {
            md.put("tokenizer.ggml.add_" + e.getKey() + "_token", GgufValue.bool(e.getValue()));
        }
        if (tc != null && tc.has("add_prefix_space") && tc.get("add_prefix_space").isBoolean()) {
            md.put("tokenizer.ggml.add_space_prefix", GgufValue.bool(tc.get("add_prefix_space").asBoolean()));
        }
    }

    /** BOS/EOS/SEP add-flags implied by a {@code TemplateProcessing} post-processor. */
    private static void templateAddFlags(JsonNode tj, JsonNode tc, Map<String, Boolean> add) {
        if (tj == null) {
            return;
        }
        JsonNode pp = tj.path("post_processor");
        List<JsonNode> procs = new ArrayList<>();
        if (pp.has("processors")) {
            pp.path("processors").forEach(procs::add);
        } else if (!pp.isMissingNode() && !pp.isNull()) {
            procs.add(pp);
        }
        String bos = tc == null ? null : tokenContent(tc.get("bos_token"));
        String eos = tc == null ? null : tokenContent(tc.get("eos_token"));
        String sep = tc == null ? null : tokenContent(tc.get("sep_token"));
        for (JsonNode p : procs) {
            if (!p.path("type").asText().equals("TemplateProcessing")) {
                continue;
            }
            JsonNode single = p.path("single");
            String first = null;
            String last = null;
            if (single.size() > 1) {
                first = single.get(0).path("SpecialToken").path("id").asText(null);
                if (first != null) {
                    add.put("bos", first.equals(bos));
                }
                last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                if (last != null) {
                    add.put("eos", last.equals(eos));
                }
            }
            JsonNode pair = p.path("pair");
            if (pair.size() > 0) {
                int start = first != null && first.equals(pair.get(0).path("SpecialToken").path("id").asText(null)) ? 1 : 0;
                int stop = last != null && last.equals(pair.get(pair.size() - 1).path("SpecialToken").path("id").asText(null))
                        ? pair.size() - 1 : pair.size();
                if (stop - start > 2 && "A".equals(pair.get(start).path("Sequence").path("id").asText(null))
                        && "B".equals(pair.get(stop - 1).path("Sequence").path("id").asText(null))) {
                    boolean addSep = false;
                    for (int i = start + 1; i < stop - 1; i++) {
                        String s = pair.get(i).path("SpecialToken").path("id").asText(null);
                        if (s != null && (s.equals(sep) || s.equals(eos)) && (i > start + 1 || last == null)) {
                            addSep = true;
                        }
                    }
                    add.put("sep", addSep);
                }
            }
        }
    }

    private static String tokenContent(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    private static void chatTemplate(Path dir, JsonNode tc, Map<String, GgufValue> md) {
        JsonNode t = tc == null ? null : tc.get("chat_template");
        if (t == null || t.isNull()) {
            Path jinja = dir.resolve("chat_template.jinja");
            if (Files.isRegularFile(jinja)) {
                try {
                    md.put("tokenizer.chat_template", GgufValue.string(Files.readString(jinja)));
                } catch (IOException e) {
                    throw new CorruptInputException("cannot read " + jinja, null, e);
                }
                return;
            }
            JsonNode j = readJson(dir.resolve("chat_template.json"));
            t = j == null ? null : j.get("chat_template");
        }
        if (t == null || t.isNull()) {
            return;
        }
        if (t.isTextual()) {
            md.put("tokenizer.chat_template", GgufValue.string(t.asText()));
        } else if (t.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode e : t) {
                String name = e.path("name").asText();
                String text = e.path("template").asText();
                if (name.equals("default")) {
                    md.put("tokenizer.chat_template", GgufValue.string(text));
                } else {
                    md.put("tokenizer.chat_template." + name, GgufValue.string(text));
                    names.add(name);
                }
            }
            if (!names.isEmpty()) {
                md.put("tokenizer.chat_templates", GgufValue.array(GgufValueType.STRING, names));
            }
        }
    }
}
