package dev.jround.plugin.dataset.hf;

import dev.jround.spi.data.CalibrationRecord;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One dataset AutoRound knows by name, and how its loader reads it.
 *
 * @param names         full hub name first, then aliases (all count for exact and partial lookup)
 * @param repos         hub repositories that hold it (first is downloaded; all are searched in the cache). The
 *                      reference reads pile-val-backup from ModelScope's swift/; the Hugging Face copy is mit-han-lab's
 * @param defaultSplits splits read when the spec gives none
 * @param allowedSplits splits a spec may choose; empty = the spec's split is ignored, as the reference does
 * @param pathHints     split name to a path fragment that marks its files, when files are not named after the split
 * @param columns       columns to read from Parquet files
 * @param sampling      how the reference orders rows before tokenizing
 * @param cap           rows the reference takes from the stream (0 = all rows)
 * @param record        row to calibration record
 * @param kind          special handling
 */
record NamedDataset(List<String> names, List<String> repos, List<String> defaultSplits, List<String> allowedSplits,
                    Map<String, String> pathHints, List<String> columns, Sampling sampling, int cap,
                    Function<Map<String, Object>, CalibrationRecord> record, Kind kind) {

    enum Sampling {
        /** {@code Dataset.shuffle(seed)}: NumPy permutation of every row, exactly as the reference. */
        PERMUTATION,
        /** Streaming {@code shuffle(seed).take(cap)}: approximated by a NumPy permutation of the first rows read. */
        STREAMING,
        /** every row of every split, then {@code random.Random(seed).shuffle}. */
        PYTHON_SHUFFLE
    }

    enum Kind {
        PLAIN,
        /** ultrachat: contents of all messages joined; the chat template is never applied (reference quirk). */
        CHAT_CONTENTS,
        /** OpenCodeInstruct: text = input + blank line + output (or a rendered chat); always concatenated. */
        INSTRUCT_PAIRS
    }

    String fullName() {
        return names.get(0);
    }

    static CalibrationRecord textField(Map<String, Object> row, String field) {
        Object v = row.get(field);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("row has no string column '" + field + "'");
        }
        return CalibrationRecord.ofText(s);
    }

    private static NamedDataset text(List<String> names, List<String> repos, String split, Sampling sampling, int cap,
                                     String field) {
        return new NamedDataset(names, repos, List.of(split), List.of(), Map.of(), List.of(field), sampling, cap,
                row -> textField(row, field), Kind.PLAIN);
    }

    /** In the reference's registration order, which decides partial-name lookup. */
    static final List<NamedDataset> ALL = List.of(
            text(List.of("NeelNanda/pile-10k", "pile-10k"), List.of("NeelNanda/pile-10k"), "train",
                    Sampling.PERMUTATION, 0, "text"),
            text(List.of("swift/pile-val-backup", "pile-val-backup"), List.of("mit-han-lab/pile-val-backup", "swift/pile-val-backup"),
                    "validation", Sampling.STREAMING, 10000, "text"),
            text(List.of("BAAI/CCI3-HQ", "CCI3-HQ"), List.of("BAAI/CCI3-HQ"), "train", Sampling.STREAMING, 10000, "text"),
            new NamedDataset(List.of("codeparrot/github-code-clean", "github-code-clean"), List.of("codeparrot/github-code-clean"),
                    List.of("train"), List.of(), Map.of(), List.of("code", "license"), Sampling.STREAMING, 10000,
                    row -> textField(row, "code"), Kind.PLAIN),
            new NamedDataset(List.of("nvidia/OpenCodeInstruct", "opencode-instruct"), List.of("nvidia/OpenCodeInstruct"),
                    List.of("train"), List.of("train"), Map.of(), List.of("input", "output"), Sampling.STREAMING, 10000,
                    row -> CalibrationRecord.ofText(row.get("input") + "\n\n" + row.get("output")), Kind.INSTRUCT_PAIRS),
            new NamedDataset(List.of("HuggingFaceH4/ultrachat_200k", "ultrachat_200k"), List.of("HuggingFaceH4/ultrachat_200k"),
                    List.of("train_sft"), List.of("train_sft", "test_sft", "train_gen", "test_gen"), Map.of(),
                    List.of("messages"), Sampling.STREAMING, 20000, NamedDataset::messages, Kind.CHAT_CONTENTS),
            new NamedDataset(List.of("openbmb/Ultra-FineWeb"), List.of("openbmb/Ultra-FineWeb"), List.of("en"),
                    List.of("en", "zh"), Map.of("en", "ultrafineweb_en", "zh", "ultrafineweb_zh"), List.of("content"),
                    Sampling.STREAMING, 20000, row -> textField(row, "content"), Kind.PLAIN),
            text(List.of("madao33/new-title-chinese", "new-title-chinese"), List.of("madao33/new-title-chinese"), "train",
                    Sampling.PERMUTATION, 0, "content"),
            new NamedDataset(List.of("google-research-datasets/mbpp", "mbpp"), List.of("google-research-datasets/mbpp"),
                    List.of("train", "validation", "test"), List.of("train", "validation", "test", "prompt"), Map.of(),
                    List.of("text", "code"), Sampling.PYTHON_SHUFFLE, 0,
                    row -> CalibrationRecord.ofText(row.get("text") + "" + row.get("code")), Kind.PLAIN));

    @SuppressWarnings("unchecked")
    private static CalibrationRecord messages(Map<String, Object> row) {
        Object v = row.get("messages");
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("row has no 'messages' list");
        }
        List<Map<String, String>> out = new java.util.ArrayList<>();
        for (Object m : list) {
            Map<String, Object> msg = (Map<String, Object>) m;
            out.add(Map.of("role", String.valueOf(msg.get("role")), "content", String.valueOf(msg.get("content"))));
        }
        return CalibrationRecord.ofMessages(out);
    }

    /** Exact name (any alias), else the reference's partial lookup: last path part contained in a name. */
    static NamedDataset exact(String name) {
        for (NamedDataset d : ALL) {
            if (d.names.contains(name)) {
                return d;
            }
        }
        return null;
    }

    static NamedDataset fuzzy(String name) {
        String last = name.substring(name.lastIndexOf('/') + 1);
        if (last.isEmpty()) {
            return null;
        }
        for (NamedDataset d : ALL) {
            for (String n : d.names) {
                if (n.contains(last)) {
                    return d;
                }
            }
        }
        return null;
    }

    /** Short names, as the reference lists them in its error. */
    static List<String> shortNames() {
        return ALL.stream().map(d -> d.names.get(d.names.size() - 1)).toList();
    }

    Function<Map<String, Object>, CalibrationRecord> recordFunction() {
        return record;
    }
}
