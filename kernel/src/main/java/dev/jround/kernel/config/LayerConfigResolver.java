package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Per-layer configuration (docs/algorithms.md): {@code ignore_layers}, {@code layer_config} entries by
 * full name, substring or partial regex, the lm_head rule and the default exclusions, resolved to one
 * {@link LayerSpec} for every linear layer of the model.
 *
 * <p>Precedence, highest first: the forced-FP shape rule; pattern keys in insertion order (the raw ignore items come
 * after the user's keys); exact-name keys; the default scheme. A pattern key overriding an exact-name key is the
 * reference's behaviour (quirk Q3), kept deliberately.
 */
public final class LayerConfigResolver {

    /** Keys a layer_config field map may carry. */
    static final Set<String> KEYS = Set.of("bits", "group_size", "sym", "data_type", "act_bits", "act_group_size", "act_sym",
            "act_data_type", "act_dynamic", "super_bits", "super_group_size", "rotation_config", "scale_dtype", "fixed_by_user");

    /**
     * @param layers      one spec per linear layer: the blocks' linears in model order, then the lm_head
     * @param quantLmHead whether the lm_head ended up quantized-by-request (after the tied-embedding reset)
     * @param regexConfig pattern keys and their field maps, for export metadata
     * @param warnings    notes for the user (unmatched patterns, lm_head reset ...)
     */
    public record Resolution(List<LayerSpec> layers, boolean quantLmHead, Map<String, Map<String, Object>> regexConfig,
                             List<String> warnings) {

        public LayerSpec layer(String name) {
            return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElse(null);
        }
    }

    /** A field map and where it came from. */
    private static final class Entry {
        final Map<String, Object> fields;
        String source;

        Entry(Map<String, Object> fields, String source) {
            this.fields = fields;
            this.source = source;
        }

        Entry copy() {
            return new Entry(new LinkedHashMap<>(fields), source);
        }
    }

    private LayerConfigResolver() {
    }

    /**
     * @param model       the bound model (names and shapes of its linear layers, tied embeddings)
     * @param base        the run's default scheme
     * @param layerConfig user entries: key (full name or pattern) to a preset name, a field map or a {@link QuantScheme}
     * @param ignoreLayers comma-separated names or substrings kept in full precision
     * @param quantLmHead  quantize the lm_head with the default scheme
     * @param presets      upper-case preset name to scheme, for string values and {@code "scheme"} fields
     */
    public static Resolution resolve(CausalLM model, ResolvedScheme base, Map<String, ?> layerConfig, String ignoreLayers,
                                     boolean quantLmHead, Map<String, QuantScheme> presets) {
        return resolve(model, base, layerConfig, ignoreLayers, quantLmHead, presets, null);
    }

    /**
     * As above, restricted to the blocks {@code toQuantBlockNames} selects (docs/algorithms.md): the linear layers of
     * every other block become full precision. {@code null} or blank selects every block.
     */
    public static Resolution resolve(CausalLM model, ResolvedScheme base, Map<String, ?> layerConfig, String ignoreLayers,
                                     boolean quantLmHead, Map<String, QuantScheme> presets, String toQuantBlockNames) {
        Resolution all = resolveAll(model, base, layerConfig, ignoreLayers, quantLmHead, presets);
        Set<Integer> selected = selectBlocks(model, toQuantBlockNames);
        if (selected == null) {
            return all;
        }
        List<String> warnings = new ArrayList<>(all.warnings());
        List<LayerSpec> out = new ArrayList<>();
        String reason = "outside --to_quant_block_names '" + toQuantBlockNames + "'";
        for (LayerSpec s : all.layers()) {
            if (s.blockIndex() < 0 || selected.contains(s.blockIndex())) {
                out.add(s);
                continue;
            }
            if (s.quantized() && s.fixedByUser()) {
                warnings.add("the " + s.reason() + " entry for " + s.name() + " is not applied: its block is " + reason);
            }
            out.add(new LayerSpec(s.name(), s.inFeatures(), s.outFeatures(), QuantScheme.FULL_PRECISION, s.blockIndex(), true, reason));
        }
        return new Resolution(List.copyOf(out), all.quantLmHead(), all.regexConfig(), List.copyOf(warnings));
    }

    /**
     * The block indices {@code toQuantBlockNames} selects, or {@code null} when it is unset (every block). Each
     * comma-separated item is a regular expression searched (substring semantics, as the reference's
     * {@code re.search}) in each block name such as {@code model.layers.3}; so {@code layers.1} also selects
     * {@code layers.10}, and {@code layers\.1$} selects only block 1.
     */
    public static Set<Integer> selectBlocks(CausalLM model, String toQuantBlockNames) {
        if (toQuantBlockNames == null || toQuantBlockNames.isBlank()) {
            return null;
        }
        int n = model.numBlocks();
        String hint = n == 0 ? "the model has no blocks"
                : "block names look like " + model.blockName(0) + (n > 1 ? " ... " + model.blockName(n - 1) : "")
                + "; give comma-separated regular expressions searched in them, e.g. --to_quant_block_names '"
                + model.blockName(0).replaceAll("\\.\\d+$", "") + "\\.[0-3]$'";
        Set<Integer> selected = new java.util.TreeSet<>();
        for (String raw : toQuantBlockNames.split(",")) {
            String item = raw.strip();
            if (item.isEmpty()) {
                continue;
            }
            Pattern p;
            try {
                p = Pattern.compile(item);
            } catch (PatternSyntaxException e) {
                throw new InvalidInputException("--to_quant_block_names item '" + item + "' is not a valid regular expression: "
                        + e.getDescription(), hint);
            }
            for (int b = 0; b < n; b++) {
                if (p.matcher(model.blockName(b)).find()) {
                    selected.add(b);
                }
            }
        }
        if (selected.isEmpty()) {
            throw new InvalidInputException("--to_quant_block_names '" + toQuantBlockNames + "' matches no block of the model", hint);
        }
        return selected;
    }

    private static Resolution resolveAll(CausalLM model, ResolvedScheme base, Map<String, ?> layerConfig, String ignoreLayers,
                                         boolean quantLmHead, Map<String, QuantScheme> presets) {
        List<String> warnings = new ArrayList<>();
        boolean fixedPreset = base.fixedPreset();
        QuantScheme dflt = base.scheme();
        Map<String, Object> defaultFields = fields(dflt);

        List<LinearInfo> supported = new ArrayList<>();
        Map<String, Integer> blockOf = new LinkedHashMap<>();
        for (int b = 0; b < model.numBlocks(); b++) {
            for (LinearInfo li : model.blockLinears(b)) {
                supported.add(li);
                blockOf.put(li.name(), b);
            }
        }
        LinearInfo head = model.lmHead();
        supported.add(head);
        Set<String> supportedNames = new java.util.HashSet<>();
        supported.forEach(li -> supportedNames.add(li.name()));

        // 2. normalise the user's values (insertion order kept)
        Map<String, Entry> config = new LinkedHashMap<>();
        if (layerConfig != null) {
            layerConfig.forEach((k, v) -> config.put(k, new Entry(normalize(k, v, presets), "layer_config '" + k + "'")));
        }
        // 1. ignore_layers: matching layers and the raw items become 16-bit entries
        for (String item : ignoreItems(ignoreLayers)) {
            for (LinearInfo li : supported) {
                if (li.name().contains(item)) {
                    put(config, li.name(), new Entry(ignoredFields(), "ignore_layers '" + item + "'"));
                }
            }
        }
        for (String item : ignoreItems(ignoreLayers)) {
            put(config, item, new Entry(ignoredFields(), "ignore_layers '" + item + "'"));
        }
        // 3-4. bits from data type digits, then the default scheme's fields for everything missing
        for (Entry e : config.values()) {
            if (e.fields.containsKey("data_type") && !e.fields.containsKey("bits")) {
                int b = SchemeResolver.inferredBits(String.valueOf(e.fields.get("data_type")));
                if (b > 0) {
                    e.fields.put("bits", b);
                }
            }
            if (e.fields.containsKey("act_data_type") && !e.fields.containsKey("act_bits")) {
                int b = SchemeResolver.inferredBits(String.valueOf(e.fields.get("act_data_type")));
                if (b > 0) {
                    e.fields.put("act_bits", b);
                }
            }
            defaultFields.forEach(e.fields::putIfAbsent);
        }
        // 5. patterns: every key that is not a layer name is searched in every layer name; later keys win
        Map<String, Map<String, Object>> regexConfig = new LinkedHashMap<>();
        for (String key : new ArrayList<>(config.keySet())) {
            if (supportedNames.contains(key)) {
                continue;
            }
            Pattern p = compile(key);
            Entry val = config.remove(key);
            regexConfig.put(key, val.fields);
            int matched = 0;
            for (LinearInfo li : supported) {
                if (p.matcher(li.name()).find()) {
                    config.put(li.name(), val.copy());
                    matched++;
                }
            }
            if (matched == 0) {
                warnings.add("layer_config key '" + key + "' matches no quantizable layer; ignored");
            }
        }
        // 6. lm_head, shape and block rules
        String lm = head.name();
        boolean quantHead = quantLmHead || config.containsKey(lm);
        if (quantHead && model.tiedEmbeddings() && !fixedPreset) {
            quantHead = false;
            warnings.add("quant_lm_head reset to false: " + lm + " shares its weight with the embeddings");
        }
        if (quantHead && !config.containsKey(lm)) {
            config.put(lm, new Entry(new LinkedHashMap<>(defaultFields), "quant_lm_head (default scheme)"));
        }
        String lmReason = model.tiedEmbeddings() && (quantLmHead || config.containsKey(lm)) && !fixedPreset
                ? "lm_head tied to the embeddings" : "lm_head (quant_lm_head off)";
        if (!quantHead && !fixedPreset) {
            config.remove(lm);
        }
        if ("int".equals(dflt.dataType()) && dflt.actBits() >= 16 && !fixedPreset) {
            for (LinearInfo li : supported) {
                if (li.outFeatures() % 32 != 0 || li.inFeatures() % 32 != 0) {
                    Entry e = config.computeIfAbsent(li.name(), n -> new Entry(new LinkedHashMap<>(defaultFields), ""));
                    e.fields.put("bits", 16);
                    e.fields.put("data_type", "fp");
                    e.fields.put("fixed_by_user", true);
                    e.source = "shape " + li.outFeatures() + "x" + li.inFeatures() + " not divisible by 32";
                }
            }
        }
        String dt = dflt.dataType().toLowerCase(Locale.ROOT);
        if ((dt.contains("mx_fp") || dt.contains("nv_fp")) && !fixedPreset && dflt.groupSize() > 0) {
            for (LinearInfo li : supported) {
                if (li.inFeatures() % dflt.groupSize() != 0) {
                    Entry e = config.computeIfAbsent(li.name(), n -> new Entry(new LinkedHashMap<>(defaultFields), ""));
                    e.fields.put("bits", 16);
                    e.fields.put("data_type", "fp");
                    e.fields.put("act_bits", 16);
                    e.fields.put("fixed_by_user", true);
                    e.source = "in " + li.inFeatures() + " not divisible by group " + dflt.groupSize();
                }
            }
        }
        List<LayerSpec> out = new ArrayList<>();
        for (LinearInfo li : supported) {
            boolean isHead = li == head;
            int block = isHead ? -1 : blockOf.get(li.name());
            Entry e = config.get(li.name());
            if (e == null && !isHead) {
                e = new Entry(new LinkedHashMap<>(defaultFields), "default scheme " + base.presetName());
                e.fields.put("fixed_by_user", false);
            }
            if (e == null) {
                out.add(new LayerSpec(li.name(), li.inFeatures(), li.outFeatures(), QuantScheme.FULL_PRECISION, block, false, lmReason));
                continue;
            }
            QuantScheme s = scheme(e.fields, li.name());
            boolean fixed = Boolean.TRUE.equals(e.fields.get("fixed_by_user"));
            out.add(new LayerSpec(li.name(), li.inFeatures(), li.outFeatures(), s, block, fixed, e.source));
        }
        return new Resolution(List.copyOf(out), quantHead, regexConfig, List.copyOf(warnings));
    }

    /** Ignore items: spaces removed, split on commas, an item ending in a digit gets a "." so layers.1 misses layers.10. */
    static List<String> ignoreItems(String ignoreLayers) {
        List<String> items = new ArrayList<>();
        if (ignoreLayers == null) {
            return items;
        }
        for (String raw : ignoreLayers.replace(" ", "").split(",")) {
            if (raw.isEmpty()) {
                continue;
            }
            items.add(Character.isDigit(raw.charAt(raw.length() - 1)) ? raw + "." : raw);
        }
        return items;
    }

    /** Python dict semantics: assigning an existing key keeps its position. */
    private static void put(Map<String, Entry> config, String key, Entry e) {
        config.put(key, e);
    }

    private static Map<String, Object> ignoredFields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bits", 16);
        f.put("act_bits", 16);
        f.put("data_type", "float");
        f.put("act_data_type", "float");
        f.put("fixed_by_user", true);
        return f;
    }

    /** A default scheme as a field map. */
    static Map<String, Object> fields(QuantScheme s) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bits", s.bits());
        // 2-D blocks are the reference's pair group size [rows, cols]
        f.put("group_size", s.weights().blockRows() > 0 ? List.of(s.weights().blockRows(), s.groupSize()) : s.groupSize());
        f.put("sym", s.sym());
        f.put("data_type", s.dataType());
        f.put("act_bits", s.actBits());
        if (s.activations().quantized()) {
            // the resolved activation arguments, as the reference's default scheme carries them into every entry
            f.put("act_group_size", s.actGroupSize());
            f.put("act_sym", s.actSym());
            f.put("act_data_type", s.actDataType());
            f.put("act_dynamic", s.actDynamic());
        }
        if (s.superBits() > 0) {
            f.put("super_bits", s.superBits());
        }
        if (s.superGroupSize() > 0) {
            f.put("super_group_size", s.superGroupSize());
        }
        f.put("scale_dtype", s.scaleDtype());
        return f;
    }

    /** A user value (preset name, field map or scheme) to a field map marked fixed_by_user. */
    private static Map<String, Object> normalize(String key, Object value, Map<String, QuantScheme> presets) {
        Map<String, Object> f;
        if (value instanceof String preset) {
            f = fields(presetFor(key, preset, presets));
        } else if (value instanceof QuantScheme s) {
            f = fields(s);
        } else if (value instanceof Map<?, ?> m) {
            f = new LinkedHashMap<>();
            Object schemeName = m.get("scheme");
            if (schemeName != null) {
                f.putAll(fields(presetFor(key, String.valueOf(schemeName), presets)));
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (k.equals("scheme") || k.equals("in_blocks")) {
                    continue;
                }
                if (!KEYS.contains(k)) {
                    throw new InvalidInputException("layer_config['" + key + "'] has the unknown key '" + k + "'",
                            "allowed keys: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ", scheme");
                }
                if (e.getValue() == null) {
                    continue;
                }
                f.put(k, e.getValue());
            }
        } else {
            throw new InvalidInputException("layer_config['" + key + "'] is " + (value == null ? "null" : value.getClass().getSimpleName()),
                    "a layer_config value is a preset name (one of " + String.join(", ", new java.util.TreeSet<>(presets.keySet()))
                            + ") or a map of scheme fields ({bits: 8})");
        }
        f.values().removeIf(java.util.Objects::isNull);
        f.put("fixed_by_user", true);
        return f;
    }

    private static QuantScheme presetFor(String key, String preset, Map<String, QuantScheme> presets) {
        try {
            return SchemeResolver.lookup(preset.strip().toUpperCase(Locale.ROOT), presets);
        } catch (InvalidInputException e) {
            throw new InvalidInputException("layer_config['" + key + "']: unknown scheme '" + preset + "'", e.hint());
        }
    }

    /** AutoRound's key-to-regex rule (docs/algorithms.md): plain keys are literal substrings, others partial regexes. */
    static String toStandardRegex(String key) {
        boolean regex = false;
        for (String tok : List.of(".*", "^", "$", "|", "(", ")", "[", "]", "?", "+")) {
            regex |= key.contains(tok);
        }
        if (!regex) {
            return ".*" + Pattern.quote(key) + ".*";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '.') {
                if (i + 1 < key.length() && key.charAt(i + 1) == '*') {
                    sb.append(".*");
                    i++;
                } else {
                    sb.append("\\.");
                }
            } else {
                sb.append(c);
            }
        }
        String r = sb.toString();
        if (!r.startsWith("^") && !r.startsWith(".*")) {
            r = ".*" + r;
        }
        if (!r.endsWith("$") && !r.endsWith(".*")) {
            r = r + ".*";
        }
        return r;
    }

    private static Pattern compile(String key) {
        try {
            return Pattern.compile(toStandardRegex(key));
        } catch (PatternSyntaxException e) {
            throw new InvalidInputException("layer_config key '" + key + "' is not a valid pattern: " + e.getDescription(),
                    "keys are full layer names, plain substrings (k_proj) or partial regexes (layers.[0-3].*proj; a bare dot is literal)");
        }
    }

    /** A resolved field map to a scheme, validating the values. */
    private static QuantScheme scheme(Map<String, Object> f, String layer) {
        String where = "layer_config for " + layer + ": ";
        int bits = intField(f, "bits", where);
        int blockRows = 0;
        int group;
        if (f.get("group_size") instanceof List<?> pair && pair.size() == 2) {
            blockRows = intField(Map.of("group_size", pair.get(0)), "group_size", where);
            group = intField(Map.of("group_size", pair.get(1)), "group_size", where);
            if (blockRows <= 0 || group <= 0) {
                throw new InvalidInputException(where + "group_size " + pair + " is invalid", "a 2-D block size is two positive integers such as [128, 128]");
            }
        } else {
            group = intField(f, "group_size", where);
        }
        Object sym = f.get("sym");
        if (!(sym instanceof Boolean)) {
            throw new InvalidInputException(where + "sym must be true or false, got " + sym, "sym: true (symmetric) or false (asymmetric)");
        }
        String dataType = String.valueOf(f.get("data_type")).strip().toLowerCase(Locale.ROOT);
        int actBits = f.containsKey("act_bits") ? intField(f, "act_bits", where) : 16;
        int superBits = f.containsKey("super_bits") ? intField(f, "super_bits", where) : 0;
        int superGroup = f.containsKey("super_group_size") ? intField(f, "super_group_size", where) : 0;
        String scaleDtype = SchemeResolver.normalizeScaleDtype(String.valueOf(f.getOrDefault("scale_dtype", "fp16")), where + "scale_dtype");
        QuantScheme.Builder b = QuantScheme.builder().bits(bits).groupSize(group).sym((Boolean) sym).dataType(dataType).actBits(actBits)
                .superBits(superBits).superGroupSize(superGroup).scaleDtype(scaleDtype);
        if (blockRows > 0) {
            b.block(blockRows, group);
        }
        if (f.get("act_group_size") != null) {
            b.actGroupSize(intField(f, "act_group_size", where));
        }
        if (f.get("act_sym") instanceof Boolean actSym) {
            b.actSym(actSym);
        }
        if (f.get("act_data_type") != null) {
            b.actDataType(String.valueOf(f.get("act_data_type")).strip().toLowerCase(Locale.ROOT));
        }
        if (f.get("act_dynamic") instanceof Boolean actDynamic) {
            b.actDynamic(actDynamic);
        }
        QuantScheme s = b.build();
        s = SchemeResolver.reconcileBits(s, new ArrayList<>());
        SchemeResolver.validate(s, where + "bits", where + "group_size");
        return s;
    }

    private static int intField(Map<String, Object> f, String key, String where) {
        Object v = f.get(key);
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l && l == (int) (long) l) {
            return (int) (long) l;
        }
        if (v instanceof Double d && d == Math.rint(d) && !d.isInfinite()) {
            return (int) (double) d;
        }
        String hint = key.equals("group_size") ? "group_size is -1, 0 or a positive integer (a [rows, cols] pair for 2-D blocks of 8-bit floating-point weights)"
                : key + " is an integer";
        throw new InvalidInputException(where + key + " must be an integer, got " + v, hint);
    }
}
