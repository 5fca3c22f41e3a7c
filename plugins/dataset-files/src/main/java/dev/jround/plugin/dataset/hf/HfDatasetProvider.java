package dev.jround.plugin.dataset.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.plugin.dataset.files.ParquetRows;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.DatasetProvider;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The datasets AutoRound knows by name (pile-10k, pile-val-backup, CCI3-HQ, github-code-clean,
 * OpenCodeInstruct, ultrachat_200k, Ultra-FineWeb, new-title-chinese, mbpp), read from the local Hugging
 * Face hub cache, or downloaded into it when the network is allowed. Rows are ordered as the reference
 * orders them before tokenizing (see {@link NamedDataset.Sampling}).
 */
public final class HfDatasetProvider implements DatasetProvider {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Streaming datasets are huge; a download fetches this many data files of the split. */
    private static final int STREAMING_DOWNLOAD_FILES = 1;

    private final Map<String, String> env;

    public HfDatasetProvider() {
        this(System.getenv());
    }

    HfDatasetProvider(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATASET, "hf", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "named Hugging Face datasets from the local hub cache (downloaded when online)",
                Map.of("datasets", NamedDataset.shortNames()));
    }

    @Override
    public boolean accepts(String nameOrPath) {
        return NamedDataset.exact(nameOrPath) != null;
    }

    @Override
    public Match match(String nameOrPath) {
        if (NamedDataset.exact(nameOrPath) != null) {
            return Match.EXACT;
        }
        return NamedDataset.fuzzy(nameOrPath) != null ? Match.FUZZY : Match.NONE;
    }

    @Override
    public boolean availableOffline(String nameOrPath, DatasetContext ctx) {
        NamedDataset d = resolve(nameOrPath);
        for (String repo : d.repos()) {
            Optional<Path> snap = HubCache.snapshot(ctx.cacheRoots(), repo);
            if (snap.isPresent() && !filesFor(d, snap.get(), d.defaultSplits()).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<CalibrationRecord> load(String nameOrPath, Map<String, String> params, DatasetContext ctx) {
        return open(nameOrPath, params, ctx).records();
    }

    private static NamedDataset resolve(String name) {
        NamedDataset d = NamedDataset.exact(name);
        if (d == null) {
            d = NamedDataset.fuzzy(name);
        }
        if (d == null) {
            throw new InvalidInputException("dataset '" + name + "' is not found",
                    "choose from the supported datasets: " + NamedDataset.shortNames());
        }
        return d;
    }

    @Override
    public Loaded open(String nameOrPath, Map<String, String> params, DatasetContext ctx) {
        NamedDataset d = resolve(nameOrPath);
        List<String> notes = new ArrayList<>();
        List<String> splits = splits(d, params.get(SPLIT), notes);
        String repo = d.repos().get(0);
        Path snapshot = null;
        for (String r : d.repos()) {
            Optional<Path> s = HubCache.snapshot(ctx.cacheRoots(), r);
            if (s.isPresent() && !filesFor(d, s.get(), splits).isEmpty()) {
                snapshot = s.get();
                repo = r;
                break;
            }
        }
        String where = "hub cache";
        if (snapshot == null) {
            if (!ctx.online() || ctx.cacheRoots().isEmpty()) {
                throw new InvalidInputException("dataset " + d.fullName() + " (split " + String.join("+", splits)
                        + ") is not in the local Hugging Face cache (searched " + ctx.cacheRoots()
                        + ") and downloads are off",
                        "download it where the network is allowed (unset HF_HUB_OFFLINE), copy a hub cache here and set HF_HOME, or pass a local .json/.jsonl/.parquet file");
            }
            int maxFiles = d.sampling() == NamedDataset.Sampling.STREAMING ? STREAMING_DOWNLOAD_FILES : Integer.MAX_VALUE;
            final List<String> wantedSplits = splits;
            ctx.info("downloading dataset " + repo + " (" + String.join("+", splits) + ") into " + ctx.cacheRoots().get(0));
            snapshot = new HubDownloader(env).download(repo, ctx.cacheRoots().get(0),
                    f -> wantedSplits.stream().anyMatch(s -> HubCache.matchesSplit(f, s, d.pathHints().get(s))
                            || d.defaultSplits().size() == 1), maxFiles, ctx);
            where = "downloaded";
        }
        List<String> used = new ArrayList<>();
        for (String split : splits) {
            used.addAll(HubCache.splitFiles(HubCache.dataFiles(snapshot), split, d.pathHints().get(split),
                    d.defaultSplits().size() == 1));
        }
        List<Map<String, Object>> rows;
        if (d.sampling() == NamedDataset.Sampling.STREAMING) {
            // the reference streams shuffle(seed).take(cap): read only the rows that order reaches, in that order
            rows = streamedRows(snapshot, used, d, ctx);
        } else {
            rows = new ArrayList<>();
            for (String f : used) {
                rows.addAll(readRows(snapshot.resolve(f), d.columns(), Integer.MAX_VALUE));
            }
        }
        if (d.fullName().equals("codeparrot/github-code-clean") && !rows.isEmpty() && rows.get(0).containsKey("license")) {
            // the reference reads the all-mit and all-apache-2.0 configurations
            Set<String> licenses = Set.of("mit", "apache-2.0");
            rows.removeIf(r -> !licenses.contains(String.valueOf(r.get("license")).toLowerCase(java.util.Locale.ROOT)));
        }
        List<CalibrationRecord> records = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            try {
                records.add(d.recordFunction().apply(rows.get(i)));
            } catch (IllegalArgumentException e) {
                throw new CorruptInputException(d.fullName() + " row " + (i + 1) + ": " + e.getMessage(),
                        "the cached files do not have the columns " + d.columns() + "; clear the cache entry and retry");
            }
        }
        boolean chat = Boolean.parseBoolean(params.getOrDefault(CHAT_TEMPLATE, "false"));
        boolean concat = Boolean.parseBoolean(params.getOrDefault(CONCAT, "false"));
        List<CalibrationRecord> ordered = switch (d.sampling()) {
            case PERMUTATION -> reorder(records, ctx.numpyPermutation(records.size(), ctx.seed()));
            case STREAMING -> {
                if (where.equals("downloaded")) {
                    notes.add("only the first data file was downloaded: the stream order matches the reference only when the cache holds every file of the split");
                }
                yield records;
            }
            case PYTHON_SHUFFLE -> reorder(records, ctx.pythonShuffleOrder(records.size(), ctx.seed()));
        };
        switch (d.kind()) {
            case CHAT_CONTENTS -> {
                if (chat) {
                    notes.add("chat template not applied: the reference always joins the message contents for this dataset");
                }
                chat = false;
            }
            case INSTRUCT_PAIRS -> {
                if (chat) {
                    ordered = renderPairs(ordered, rows, records, ctx, params.get(SYSTEM_PROMPT));
                    chat = false;
                }
                ordered = reorder(ordered, ctx.pythonShuffleOrder(ordered.size(), ctx.seed()));
                concat = true;
            }
            case PLAIN -> {
            }
        }
        String source = d.fullName() + " (" + where + ", " + String.join("+", splits) + ", " + used.size() + " file"
                + (used.size() == 1 ? "" : "s") + ", " + records.size() + " rows) " + snapshot;
        return new Loaded(source, ordered, concat, chat, notes);
    }

    /** Shuffle buffer of the streaming reference, shards = data files in name order. */
    private static final int SHUFFLE_BUFFER = 1000;

    private static List<Map<String, Object>> streamedRows(Path snapshot, List<String> files, NamedDataset d, DatasetContext ctx) {
        int[] sizes = new int[files.size()];
        List<List<Map<String, Object>>> jsonRows = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            Path f = snapshot.resolve(files.get(i));
            List<Map<String, Object>> loaded = null;
            if (f.getFileName().toString().endsWith(".parquet")) {
                try {
                    sizes[i] = (int) Math.min(Integer.MAX_VALUE, ParquetRows.rowCount(f));
                } catch (IOException | RuntimeException e) {
                    throw new CorruptInputException(f + ": not a readable Parquet file: " + e.getMessage(),
                            "delete the cache entry so it is downloaded again", e);
                }
            } else {
                loaded = readRows(f, d.columns(), Integer.MAX_VALUE);
                sizes[i] = loaded.size();
            }
            jsonRows.add(loaded);
        }
        int[] order = ctx.streamingShuffleOrder(sizes, SHUFFLE_BUFFER, ctx.seed(), d.cap());
        int[] start = new int[sizes.length + 1];
        for (int i = 0; i < sizes.length; i++) {
            start[i + 1] = start[i] + sizes[i];
        }
        int[] need = new int[sizes.length];
        int[] shardOf = new int[order.length];
        for (int k = 0; k < order.length; k++) {
            int shard = 0;
            while (order[k] >= start[shard + 1]) {
                shard++;
            }
            shardOf[k] = shard;
            need[shard] = Math.max(need[shard], order[k] - start[shard] + 1);
        }
        List<List<Map<String, Object>>> shardRows = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            shardRows.add(need[i] == 0 ? List.of() : jsonRows.get(i) != null ? jsonRows.get(i)
                    : readRows(snapshot.resolve(files.get(i)), d.columns(), need[i]));
        }
        List<Map<String, Object>> out = new ArrayList<>(order.length);
        for (int k = 0; k < order.length; k++) {
            out.add(shardRows.get(shardOf[k]).get(order[k] - start[shardOf[k]]));
        }
        return out;
    }

    private static List<CalibrationRecord> reorder(List<CalibrationRecord> in, int[] order) {
        List<CalibrationRecord> out = new ArrayList<>(in.size());
        for (int i : order) {
            out.add(in.get(i));
        }
        return out;
    }

    /** OpenCodeInstruct with the chat template: [system?, user=input, assistant=output], no generation prompt. */
    private static List<CalibrationRecord> renderPairs(List<CalibrationRecord> ordered, List<Map<String, Object>> rows,
                                                       List<CalibrationRecord> records, DatasetContext ctx, String system) {
        java.util.IdentityHashMap<CalibrationRecord, Map<String, Object>> rowOf = new java.util.IdentityHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            rowOf.put(records.get(i), rows.get(i));
        }
        List<CalibrationRecord> out = new ArrayList<>(ordered.size());
        for (CalibrationRecord r : ordered) {
            Map<String, Object> row = rowOf.get(r);
            List<Map<String, String>> msgs = new ArrayList<>();
            if (system != null && !system.isEmpty()) {
                msgs.add(Map.of("role", "system", "content", system));
            }
            msgs.add(Map.of("role", "user", "content", String.valueOf(row.get("input"))));
            msgs.add(Map.of("role", "assistant", "content", String.valueOf(row.get("output"))));
            String text;
            try {
                text = ctx.tokenizer().applyChatTemplate(msgs, false);
            } catch (RuntimeException e) {
                text = ctx.tokenizer().applyChatTemplate(msgs.stream().filter(m -> !"system".equals(m.get("role"))).toList(), false);
            }
            out.add(CalibrationRecord.ofText(text));
        }
        return out;
    }

    private static List<String> splits(NamedDataset d, String requested, List<String> notes) {
        if (requested == null) {
            return d.defaultSplits();
        }
        if (d.allowedSplits().isEmpty()) {
            notes.add("split=" + requested + " ignored: the reference always reads " + String.join("+", d.defaultSplits()));
            return d.defaultSplits();
        }
        List<String> splits = Arrays.asList(requested.split("\\+"));
        for (String s : splits) {
            if (!d.allowedSplits().contains(s)) {
                throw new InvalidInputException("split '" + s + "' is not available for " + d.fullName(),
                        "choose from " + d.allowedSplits());
            }
        }
        return splits;
    }

    private static List<String> filesFor(NamedDataset d, Path snapshot, List<String> splits) {
        List<String> files = HubCache.dataFiles(snapshot);
        return splits.stream().flatMap(s -> HubCache.splitFiles(files, s, d.pathHints().get(s), d.defaultSplits().size() == 1).stream())
                .distinct().collect(Collectors.toList());
    }

    /** Rows of a Parquet, JSON-lines (optionally zstd-compressed) or JSON file (an array or JSON lines). */
    static List<Map<String, Object>> readRows(Path file, List<String> columns, int limit) {
        String name = file.getFileName().toString();
        try {
            if (name.endsWith(".parquet")) {
                try {
                    return ParquetRows.read(file, columns, limit);
                } catch (RuntimeException e) {
                    throw new CorruptInputException(file + ": not a readable Parquet file: " + e.getMessage(),
                            "delete the cache entry so it is downloaded again", e);
                }
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            InputStream raw = Files.newInputStream(file);
            if (name.endsWith(".zst")) {
                // zstd-compressed JSON lines (mit-han-lab/pile-val-backup); zstd-jni comes with the Parquet reader
                raw = new com.github.luben.zstd.ZstdInputStream(raw);
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8))) {
                r.mark(1 << 16);
                int c;
                do {
                    c = r.read();
                } while (c != -1 && Character.isWhitespace(c));
                r.reset();
                if (c == '[') {
                    for (Object o : JSON.readValue(r, List.class)) {
                        if (rows.size() >= limit) {
                            break;
                        }
                        rows.add(asRow(o, file));
                    }
                } else {
                    String line;
                    while (rows.size() < limit && (line = r.readLine()) != null) {
                        if (!line.isBlank()) {
                            rows.add(asRow(JSON.readValue(line, Object.class), file));
                        }
                    }
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asRow(Object o, Path file) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new CorruptInputException(file + ": a row is not a JSON object", "dataset files hold one object per row");
    }
}
