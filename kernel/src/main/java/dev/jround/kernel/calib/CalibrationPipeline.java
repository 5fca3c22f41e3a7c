package dev.jround.kernel.calib;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetProvider;
import dev.jround.spi.data.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a {@code --dataset} spec into calibration rows exactly as the reference prepares them: per entry,
 * load (provider), optional chat template, tokenize with truncation to {@code seqlen}, optional
 * concatenation, drop rows shorter than {@code seqlen} or degenerate, keep the first {@code num}; then
 * combine several entries (shares of {@code nsamples}, seeded NumPy permutation) and keep
 * {@code nsamples} rows.
 */
public final class CalibrationPipeline {

    /** The dataset the reference uses when none is given. */
    public static final String DEFAULT_DATASET = "NeelNanda/pile-10k";

    private final List<DatasetProvider> providers;
    private Concatenation.Mode concatMode = Concatenation.Mode.INTENDED;

    public CalibrationPipeline(PluginRegistry registry) {
        this(registry.all(DatasetProvider.class));
    }

    public CalibrationPipeline(List<DatasetProvider> providers) {
        this.providers = List.copyOf(providers);
    }

    /** {@link Concatenation.Mode#REFERENCE} reproduces the reference's drifting chunk lengths (parity runs). */
    public CalibrationPipeline concatMode(Concatenation.Mode mode) {
        this.concatMode = mode;
        return this;
    }

    /**
     * The spec used when none is given: {@value #DEFAULT_DATASET} (for a code model, OpenCodeInstruct
     * concatenated) if a provider can read it without the network, else self-generated samples
     * ({@code self:num=nsamples}), announced in one line.
     */
    public String defaultSpec(CalibrationContext ctx) {
        String wanted = DEFAULT_DATASET;
        String spec = DEFAULT_DATASET;
        if (ctx.codeModel()) {
            // the reference calibrates code models on code (OpenCodeInstruct, concatenated)
            wanted = "nvidia/OpenCodeInstruct";
            spec = CodeModels.defaultCodeSpec(ctx.nsamples());
        }
        DatasetProvider source = bestProvider(wanted);
        if (source != null && source.availableOffline(wanted, ctx)) {
            return spec;
        }
        String fallback = "self:num=" + ctx.nsamples();
        ctx.info(wanted + " is not in the local Hugging Face cache (" + ctx.cacheRoots().stream()
                .map(Object::toString).collect(Collectors.joining(", ")) + "); calibrating on samples the model generates itself ("
                + fallback + ")");
        return fallback;
    }

    /** Prepares {@code spec}, or the default dataset when {@code spec} is null or blank. */
    public CalibrationSet prepare(String spec, CalibrationContext ctx) {
        boolean defaulted = spec == null || spec.isBlank();
        String text = defaulted ? defaultSpec(ctx) : spec;
        return prepare(SpecParser.parse(text), ctx, defaulted);
    }

    public CalibrationSet prepare(DatasetSpec spec, CalibrationContext ctx, boolean defaulted) {
        int seqlen = ctx.seqlen();
        int nsamples = ctx.nsamples();
        if (seqlen <= 0 || nsamples <= 0) {
            throw new InvalidInputException("seqlen and nsamples must be positive (got seqlen " + seqlen
                    + ", nsamples " + nsamples + ")", "use --seqlen and --nsamples >= 1");
        }
        List<String> notes = new ArrayList<>();
        List<Prepared> prepared = new ArrayList<>();
        for (DatasetSpec.Entry e : spec.entries()) {
            prepared.add(prepareEntry(e, ctx, notes));
        }
        List<Row> rows = combine(prepared, nsamples, ctx.seed());
        Map<Prepared, Integer> used = new HashMap<>();
        for (Row r : rows) {
            used.merge(r.origin, 1, Integer::sum);
        }
        List<CalibrationSummary.Source> sources = new ArrayList<>();
        for (Prepared p : prepared) {
            sources.add(new CalibrationSummary.Source(p.entry.raw(), p.provider, p.loaded.source(), p.loaded.records().size(),
                    p.rows.size(), used.getOrDefault(p, 0), p.loaded.concatenate(), p.loaded.applyChatTemplate()));
        }
        if (rows.size() < nsamples) {
            notes.add("only " + rows.size() + " of " + nsamples + " requested samples have at least " + seqlen
                    + " tokens; use more data, concat=True or a shorter --seqlen");
        }
        List<long[]> ids = rows.stream().map(r -> r.ids).toList();
        List<long[]> masks = rows.stream().map(r -> r.mask).toList();
        return new CalibrationSet(ids, masks, summarize(spec.text(), defaulted, sources, nsamples, seqlen, ctx.seed(), ids, notes));
    }

    private static CalibrationSummary summarize(String spec, boolean defaulted, List<CalibrationSummary.Source> sources,
                                                int nsamples, int seqlen, long seed, List<long[]> ids, List<String> notes) {
        long tokens = 0;
        int min = ids.isEmpty() ? 0 : Integer.MAX_VALUE;
        int max = 0;
        Set<Long> distinct = new HashSet<>();
        for (long[] r : ids) {
            tokens += r.length;
            min = Math.min(min, r.length);
            max = Math.max(max, r.length);
            for (long t : r) {
                distinct.add(t);
            }
        }
        return new CalibrationSummary(spec, defaulted, sources, nsamples, seqlen, seed, ids.size(), tokens, min, max,
                distinct.size(), notes);
    }

    /** The provider for a name: an exact match (existing file, registered name) beats a partial one; ties by id. */
    DatasetProvider bestProvider(String name) {
        DatasetProvider best = null;
        DatasetProvider.Match bestMatch = DatasetProvider.Match.NONE;
        List<DatasetProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparing(p -> p.descriptor().id()));
        for (DatasetProvider p : sorted) {
            DatasetProvider.Match m = p.match(name);
            if (m.compareTo(bestMatch) > 0) {
                best = p;
                bestMatch = m;
            }
        }
        return best;
    }

    private Prepared prepareEntry(DatasetSpec.Entry e, CalibrationContext ctx, List<String> notes) {
        DatasetProvider provider = bestProvider(e.name());
        if (provider == null) {
            List<String> known = new ArrayList<>();
            for (DatasetProvider p : providers) {
                known.addAll(p.descriptor().supports().getOrDefault("datasets", List.of()));
            }
            throw new InvalidInputException("--dataset: dataset '" + e.name() + "' (entry '" + e.raw()
                    + "') is not a local file and no dataset provider knows it",
                    "use an existing .json/.jsonl/.txt/.parquet path" + (known.isEmpty() ? "" : " or one of " + known));
        }
        DatasetProvider.Loaded loaded = provider.open(e.name(), e.providerParams(), ctx);
        for (String n : loaded.notes()) {
            notes.add(e.name() + ": " + n);
        }
        Tokenizer tok = ctx.tokenizer();
        int seqlen = ctx.seqlen();
        boolean needsTokenizer = loaded.records().stream().anyMatch(r -> r.tokenIds() == null);
        if (tok == null && needsTokenizer) {
            throw new InvalidInputException("--dataset: entry '" + e.raw() + "' holds text but the model has no tokenizer",
                    "add tokenizer.json to the model directory, or calibrate with --dataset self:num=N");
        }
        List<long[]> tokenized = new ArrayList<>(loaded.records().size());
        boolean chat = loaded.applyChatTemplate();
        if (chat && tok != null && !tok.hasChatTemplate()) {
            throw new InvalidInputException("--dataset: entry '" + e.raw() + "' asks for the chat template but the tokenizer has none",
                    "drop apply_chat_template / system_prompt from the entry, or use a model whose tokenizer_config.json has a chat_template");
        }
        String systemPrompt = e.systemPrompt();
        for (CalibrationRecord r : loaded.records()) {
            if (r.tokenIds() != null) {
                long[] t = r.tokenIds();
                tokenized.add(t.length > seqlen ? Arrays.copyOf(t, seqlen) : t.clone());
                continue;
            }
            String text;
            if (chat) {
                text = renderChat(tok, r, systemPrompt);
            } else if (r.text() != null) {
                text = r.text();
            } else {
                // a chat record without the template: its contents back to back, as the reference does for ultrachat
                text = r.messages().stream().map(m -> m.getOrDefault("content", "")).collect(Collectors.joining());
            }
            tokenized.add(Tokenization.encodeTruncated(tok, text, seqlen));
        }
        List<long[]> rows = loaded.concatenate()
                ? Concatenation.chunk(tokenized, seqlen, tok == null ? -1 : tok.bosTokenId(), tok == null ? -1 : tok.eosTokenId(), concatMode)
                : tokenized;
        List<Row> kept = new ArrayList<>();
        Prepared p = new Prepared(e, provider.descriptor().id(), loaded, kept);
        for (long[] ids : rows) {
            if (keep(ids, seqlen)) {
                long[] mask = new long[ids.length];
                Arrays.fill(mask, 1L);
                kept.add(new Row(ids, mask, p));
            }
        }
        if (e.num() != null && kept.size() > e.num()) {
            kept.subList(e.num(), kept.size()).clear();
        }
        return p;
    }

    /** Messages {@code [system?] + (the record's chat | user: text)}, rendered with the generation prompt. */
    static String renderChat(Tokenizer tok, CalibrationRecord r, String systemPrompt) {
        List<Map<String, String>> messages = new ArrayList<>();
        if (systemPrompt != null && !systemPrompt.isEmpty()) {
            messages.add(Map.of("role", "system", "content", systemPrompt));
        }
        if (r.messages() != null) {
            messages.addAll(r.messages());
        } else {
            messages.add(Map.of("role", "user", "content", r.text()));
        }
        try {
            return tok.applyChatTemplate(messages, true);
        } catch (RuntimeException failed) {
            // as the reference: some templates reject a system role; try once more without it
            List<Map<String, String>> withoutSystem = messages.stream()
                    .filter(m -> !"system".equals(m.get("role"))).toList();
            return tok.applyChatTemplate(withoutSystem, true);
        }
    }

    /** At least seqlen tokens, and (for seqlen > 2) the last of the first seqlen not more than seqlen/2 times. */
    static boolean keep(long[] ids, int seqlen) {
        if (ids.length < seqlen) {
            return false;
        }
        long[] head = ids.length > seqlen ? Arrays.copyOf(ids, seqlen) : ids;
        return !(head.length > 1 && seqlen > 2 && lastTokenCount(head) > seqlen / 2);
    }

    static int lastTokenCount(long[] ids) {
        long last = ids[ids.length - 1];
        int n = 0;
        for (long t : ids) {
            if (t == last) {
                n++;
            }
        }
        return n;
    }

    /** The reference's mixing of several datasets (docs/algorithms.md), then the cut to nsamples. */
    static List<Row> combine(List<Prepared> prepared, int nsamples, long seed) {
        if (prepared.size() == 1) {
            List<Row> only = prepared.get(0).rows;
            return List.copyOf(only.size() > nsamples ? only.subList(0, nsamples) : only);
        }
        List<Prepared> sorted = new ArrayList<>(prepared);
        sorted.sort(Comparator.comparingInt(p -> p.rows.size()));
        Map<String, Integer> nums = new LinkedHashMap<>();
        for (Prepared p : prepared) {
            if (p.entry.num() != null) {
                nums.put(p.entry.name(), p.entry.num());
            }
        }
        int cnt = nums.values().stream().mapToInt(Integer::intValue).sum();
        if (cnt > nsamples) {
            cnt = 0;
        }
        List<Row> all = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            Prepared p = sorted.get(i);
            int target;
            if (p.entry.num() != null) {
                target = p.entry.num();
            } else {
                target = !nums.isEmpty()
                        ? Math.floorDiv(nsamples - cnt, sorted.size() - nums.size())
                        : Math.floorDiv(nsamples - cnt, sorted.size() - i);
                target = Math.min(target, p.rows.size());
                cnt += target;
            }
            all.addAll(p.rows.subList(0, Math.max(0, Math.min(target, p.rows.size()))));
        }
        int[] perm = NumpyPcg64.permutation(all.size(), seed);
        List<Row> shuffled = new ArrayList<>(all.size());
        for (int idx : perm) {
            shuffled.add(all.get(idx));
        }
        return List.copyOf(shuffled.size() > nsamples ? shuffled.subList(0, nsamples) : shuffled);
    }

    /**
     * In-memory calibration data (the API's alternative to a spec string), handled as the reference
     * handles a list: strings are tokenized with truncation to {@code seqlen}; token arrays ({@code long[]},
     * {@code int[]} or {@link CalibrationRecord#tokenIds()}) are used as they are; nothing is shuffled,
     * concatenated or filtered for degeneracy; rows shorter than {@code seqlen} are skipped. Masks: all
     * ones (or {@code ids != pad} when the tokenizer has a pad token) with the last position set to 0.
     */
    public static CalibrationSet fromMemory(List<?> items, Tokenizer tok, int seqlen) {
        List<long[]> ids = new ArrayList<>();
        List<long[]> masks = new ArrayList<>();
        int skipped = 0;
        for (Object item : items) {
            long[] row;
            if (item instanceof String s) {
                row = Tokenization.encodeTruncated(requireTokenizer(tok), s, seqlen);
            } else if (item instanceof long[] l) {
                row = l.clone();
            } else if (item instanceof int[] ints) {
                row = Arrays.stream(ints).asLongStream().toArray();
            } else if (item instanceof CalibrationRecord r && r.tokenIds() != null) {
                row = r.tokenIds().clone();
            } else if (item instanceof CalibrationRecord r && r.text() != null) {
                row = Tokenization.encodeTruncated(requireTokenizer(tok), r.text(), seqlen);
            } else {
                throw new InvalidInputException("in-memory calibration item of type "
                        + (item == null ? "null" : item.getClass().getSimpleName()) + " is not supported",
                        "pass strings, long[]/int[] token ids or CalibrationRecords");
            }
            if (row.length < seqlen) {
                skipped++;
                continue;
            }
            long[] mask = new long[row.length];
            long pad = tok == null ? -1 : tok.padTokenId();
            for (int i = 0; i < row.length; i++) {
                mask[i] = pad >= 0 && row[i] == pad ? 0 : 1;
            }
            mask[mask.length - 1] = 0;
            ids.add(row);
            masks.add(mask);
        }
        List<String> notes = skipped == 0 ? List.of() : List.of(skipped + " in-memory items shorter than " + seqlen + " tokens skipped");
        CalibrationSummary summary = summarize("<in-memory list>", false, List.of(new CalibrationSummary.Source(
                "<in-memory list>", "api", items.size() + " items", items.size(), ids.size(), ids.size(), false, false)),
                items.size(), seqlen, 0, ids, notes);
        return new CalibrationSet(ids, masks, summary);
    }

    private static Tokenizer requireTokenizer(Tokenizer tok) {
        if (tok == null) {
            throw new InvalidInputException("in-memory calibration strings need a tokenizer", "pass token ids or a tokenizer");
        }
        return tok;
    }

    /** One spec entry after its own processing. */
    static final class Prepared {
        final DatasetSpec.Entry entry;
        final String provider;
        final DatasetProvider.Loaded loaded;
        final List<Row> rows;

        Prepared(DatasetSpec.Entry entry, String provider, DatasetProvider.Loaded loaded, List<Row> rows) {
            this.entry = entry;
            this.provider = provider;
            this.loaded = loaded;
            this.rows = rows;
        }
    }

    record Row(long[] ids, long[] mask, Prepared origin) {
    }
}
