package dev.jround.plugin.dataset.local;

import com.fasterxml.jackson.core.JsonProcessingException;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Calibration samples from local files: {@code .json} (an array of samples, or an object whose values are
 * the samples), {@code .jsonl} (one sample per line), {@code .txt} (one sample per non-empty line) and
 * {@code .parquet} (one sample per row). Samples are shuffled with the reference's seeded Python shuffle.
 */
public final class LocalFileDatasetProvider implements DatasetProvider {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> EXTENSIONS = List.of(".json", ".jsonl", ".txt", ".parquet");

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DATASET, "local", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "local calibration files: .json, .jsonl, .txt, .parquet", Map.of("datasets", List.of("<file>.json", "<file>.jsonl", "<file>.txt", "<file>.parquet")));
    }

    /** As the reference: the name mentions json or txt (here also parquet) and the file exists. */
    @Override
    public boolean accepts(String nameOrPath) {
        String lower = nameOrPath.toLowerCase(Locale.ROOT);
        if (!(lower.contains("json") || lower.contains("txt") || lower.contains("parquet"))) {
            return false;
        }
        try {
            return Files.isRegularFile(Path.of(nameOrPath));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    @Override
    public List<CalibrationRecord> load(String nameOrPath, Map<String, String> params, DatasetContext ctx) {
        List<CalibrationRecord> records = read(Path.of(nameOrPath));
        List<CalibrationRecord> shuffled = new ArrayList<>(records.size());
        for (int i : ctx.pythonShuffleOrder(records.size(), ctx.seed())) {
            shuffled.add(records.get(i));
        }
        return shuffled;
    }

    @Override
    public Loaded open(String nameOrPath, Map<String, String> params, DatasetContext ctx) {
        List<CalibrationRecord> records = load(nameOrPath, params, ctx);
        List<String> notes = params.containsKey(SPLIT) ? List.of("split= is ignored for local files") : List.of();
        return new Loaded(Path.of(nameOrPath).toAbsolutePath().normalize() + " (" + records.size() + " samples)", records,
                Boolean.parseBoolean(params.getOrDefault(CONCAT, "false")),
                Boolean.parseBoolean(params.getOrDefault(CHAT_TEMPLATE, "false")), notes);
    }

    /** The file's samples in file order. */
    static List<CalibrationRecord> read(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".jsonl")) {
                return readJsonl(file);
            } else if (name.endsWith(".json")) {
                return readJson(file);
            } else if (name.endsWith(".txt")) {
                return readTxt(file);
            } else if (name.endsWith(".parquet")) {
                return readParquet(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read calibration file " + file, e);
        }
        throw new InvalidInputException("calibration file " + file + " has an unsupported type",
                "use one of " + EXTENSIONS);
    }

    private static List<CalibrationRecord> readJson(Path file) throws IOException {
        Object root;
        try {
            root = JSON.readValue(file.toFile(), Object.class);
        } catch (JsonProcessingException e) {
            throw new CorruptInputException(file + ": invalid JSON at line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage(), "fix the file or convert it to .jsonl, one sample per line", e);
        }
        List<?> samples;
        if (root instanceof Map<?, ?> map) {
            // {"data": [...]} (the layout load_dataset("json", field="data") reads): the list is the samples;
            // otherwise, as the reference, the object's values are the samples
            if (map.size() == 1 && map.values().iterator().next() instanceof List<?> only) {
                samples = only;
            } else {
                samples = new ArrayList<>(map.values());
            }
        } else if (root instanceof List<?> list) {
            samples = list;
        } else {
            throw new InvalidInputException(file + ": top-level JSON must be an array of samples or an object",
                    "write [\"text 1\", {\"text\": \"text 2\"}, ...]");
        }
        List<CalibrationRecord> out = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            out.add(SampleFields.resolve(samples.get(i), file + " sample " + (i + 1)));
        }
        return out;
    }

    private static List<CalibrationRecord> readJsonl(Path file) throws IOException {
        List<CalibrationRecord> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                Object sample;
                try {
                    sample = JSON.readValue(line, Object.class);
                } catch (JsonProcessingException e) {
                    throw new CorruptInputException(file + " line " + lineNo + ": invalid JSON: " + e.getOriginalMessage(),
                            "each line of a .jsonl file must be one JSON value", e);
                }
                out.add(SampleFields.resolve(sample, file + " line " + lineNo));
            }
        }
        return out;
    }

    private static List<CalibrationRecord> readTxt(Path file) throws IOException {
        List<CalibrationRecord> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String text = SampleFields.rstrip(line);
            if (!text.isBlank()) {
                out.add(CalibrationRecord.ofText(text));
            }
        }
        return out;
    }

    private static List<CalibrationRecord> readParquet(Path file) throws IOException {
        List<Map<String, Object>> rows;
        try {
            rows = ParquetRows.read(file, List.of(), Integer.MAX_VALUE);
        } catch (RuntimeException e) {
            throw new CorruptInputException(file + ": not a readable Parquet file: " + e.getMessage(),
                    "write it with pyarrow / pandas to_parquet (plain, snappy, gzip or zstd pages)", e);
        }
        List<CalibrationRecord> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            out.add(SampleFields.resolve(rows.get(i), file + " row " + (i + 1)));
        }
        return out;
    }
}
