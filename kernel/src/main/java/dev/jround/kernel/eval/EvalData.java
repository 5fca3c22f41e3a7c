package dev.jround.kernel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Token sequences to evaluate on: a token-id JSON file, or a text file tokenized and cut into windows. */
public final class EvalData {

    private EvalData() {
    }

    /**
     * Reads {@code file}: {@code .json} holding a list of token-id lists (like {@code calib_ids.json}) or one flat
     * list; anything else is UTF-8 text ({@code .jsonl} lines contribute their {@code "text"} field).
     *
     * @param seqlen window length; id rows longer than it are cut to it, a flat id list and text are cut into
     *               consecutive windows of it ({@code <= 0}: rows as they are, text as one sequence)
     */
    public static List<long[]> load(Path file, Tokenizer tokenizer, int seqlen) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("evaluation data not found: " + file, "give a text file or a token-id JSON file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) {
            return readIds(file, seqlen);
        }
        if (tokenizer == null) {
            throw new InvalidInputException("text data " + file + " needs a tokenizer, but the model has none",
                    "give a token-id JSON file (a list of lists of ids) instead");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CorruptInputException("cannot read " + file + ": " + e.getMessage(), "the data file must be UTF-8 text", e);
        }
        if (name.endsWith(".jsonl")) {
            text = jsonlText(file, text);
        }
        return windows(tokenizer, text, seqlen);
    }

    static List<long[]> readIds(Path file, int seqlen) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new CorruptInputException("cannot parse " + file + ": " + e.getMessage(),
                    "a token-id file is JSON: a list of lists of integers", e);
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new CorruptInputException(file + " holds no token ids", "a token-id file is JSON: a list of lists of integers");
        }
        if (root.get(0).isNumber()) {
            long[] flat = row(root, file, 0);
            return seqlen > 0 ? chunk(flat, seqlen) : List.of(flat);
        }
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            long[] r = row(root.get(i), file, i);
            if (seqlen > 0 && r.length > seqlen) {
                r = Arrays.copyOf(r, seqlen);
            }
            if (r.length >= 2) {
                rows.add(r);
            }
        }
        if (rows.isEmpty()) {
            throw new InvalidInputException(file + " has no row with at least 2 tokens", "perplexity needs a token and its successor");
        }
        return rows;
    }

    private static long[] row(JsonNode arr, Path file, int index) {
        if (!arr.isArray()) {
            throw new CorruptInputException(file + " row " + index + " is not a list of ids", "a token-id file is JSON: a list of lists of integers");
        }
        long[] r = new long[arr.size()];
        for (int j = 0; j < r.length; j++) {
            JsonNode v = arr.get(j);
            // isIntegralNumber: Jackson's canConvertToLong alone would accept 2.5 and truncate it
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new CorruptInputException(file + " row " + index + " position " + j + " is not an integer: " + v,
                        "a token-id file is JSON: a list of lists of integers");
            }
            r[j] = v.asLong();
        }
        return r;
    }

    private static String jsonlText(Path file, String content) {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        int lineNo = 0;
        for (String line : content.split("\n")) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode n = json.readTree(line);
                if (!sb.isEmpty()) {
                    sb.append("\n\n");
                }
                sb.append(n.path("text").asText(""));
            } catch (IOException e) {
                throw new CorruptInputException(file + " line " + lineNo + " is not JSON: " + e.getMessage(),
                        "a .jsonl data file has one {\"text\": ...} object per line", e);
            }
        }
        return sb.toString();
    }

    /**
     * Tokenizes the whole text once and cuts the ids into consecutive windows of {@code seqlen}; when the
     * tokenizer adds a BOS token, every window starts with it (then {@code seqlen - 1} text tokens), as llama.cpp's
     * perplexity tool does. A trailing partial window is dropped unless it is the only one.
     */
    public static List<long[]> windows(Tokenizer tokenizer, String text, int seqlen) {
        long[] ids = tokenizer.encode(text, false);
        long[] probe = tokenizer.encode("a", true);
        long bos = tokenizer.bosTokenId();
        boolean withBos = bos >= 0 && probe.length > 0 && probe[0] == bos;
        if (seqlen <= 0) {
            return List.of(withBos ? prepend(bos, ids) : ids);
        }
        int body = withBos ? seqlen - 1 : seqlen;
        if (body < 1) {
            throw new InvalidInputException("--seqlen " + seqlen + " is too short", "use at least 2");
        }
        List<long[]> out = new ArrayList<>();
        for (int start = 0; start + body <= ids.length; start += body) {
            long[] w = Arrays.copyOfRange(ids, start, start + body);
            out.add(withBos ? prepend(bos, w) : w);
        }
        if (out.isEmpty()) {
            long[] w = withBos ? prepend(bos, ids) : ids;
            if (w.length < 2) {
                throw new InvalidInputException("the evaluation text has fewer than 2 tokens", "give a longer text");
            }
            out.add(w);
        }
        return out;
    }

    static List<long[]> chunk(long[] ids, int seqlen) {
        List<long[]> out = new ArrayList<>();
        for (int start = 0; start + seqlen <= ids.length; start += seqlen) {
            out.add(Arrays.copyOfRange(ids, start, start + seqlen));
        }
        if (out.isEmpty()) {
            out.add(ids);
        }
        return out;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] r = new long[rest.length + 1];
        r[0] = first;
        System.arraycopy(rest, 0, r, 1, rest.length);
        return r;
    }
}
