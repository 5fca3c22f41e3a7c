package dev.jround.it.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.cli.JroundCli;
import dev.jround.it.FileHashes;
import dev.jround.it.TinyLlama;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 10: every bad input of the corpus in {@code src/test/resources/bad-inputs/*.jsonl} is refused by the real CLI with
 * the expected exit code and exactly one {@code error:} line naming the culprit, without a stack trace or a Java
 * exception name, and leaves every input file and a sentinel beside the output byte-for-byte unchanged.
 *
 * <p>A case is one JSON object a line: {@code id}, {@code args} (the command line; {@code ${WORK}}, {@code ${MODEL}} and
 * {@code ${OUT}} are replaced), {@code exit}, {@code error} (text the error line must contain, any case), {@code model}
 * ({@code "llama"}: a tiny Llama is written to {@code ${MODEL}} with a calibration file {@code calib.jsonl};
 * {@code "none"}: nothing), optionally {@code config} (merged into the model's config.json), {@code safetensors} (edits
 * of model.safetensors: {@code header} merged into the tensors' header entries, {@code remove}, {@code truncate},
 * {@code headerLength}, {@code poke} {tensor, index, value}), {@code delete} (model files to remove), {@code write}
 * (file name under ${WORK} to text content) and {@code files} (a folder under {@code bad-inputs/files/} copied into
 * ${WORK}; the folder named like the case id is copied when it exists).
 */
class BadInputCorpusTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    @TestFactory
    Stream<DynamicTest> everyBadInputIsRefusedCleanly() throws IOException, URISyntaxException {
        Path root = Path.of(BadInputCorpusTest.class.getResource("/bad-inputs").toURI());
        List<JsonNode> cases = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (!line.isBlank() && !line.startsWith("//")) {
                        cases.add(JSON.readTree(line));
                    }
                }
            }
        }
        Set<String> ids = new HashSet<>();
        for (JsonNode c : cases) {
            assertTrue(ids.add(c.get("id").asText()), "duplicate case id " + c.get("id"));
        }
        assertTrue(cases.size() >= 60, "the corpus has " + cases.size() + " cases; issue 10 asks for at least 60");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.get("id").asText(), () -> run(root, c)));
    }

    private static void run(Path root, JsonNode c) throws IOException {
        String id = c.get("id").asText();
        Path work = Files.createDirectories(tmp.resolve(id));
        Path model = work.resolve("model");
        Path out = Files.createDirectories(work.resolve("out"));
        Files.writeString(out.resolve("SENTINEL.txt"), "must survive every run");
        if ("llama".equals(c.path("model").asText("llama"))) {
            TinyLlama.SMALL.write(model, 0f);
            TinyLlama.SMALL.writeCalibration(model.resolve("calib.jsonl"), 24, 40, 3);
        }
        String filesDir = c.path("files").asText(id);
        if (Files.isDirectory(root.resolve("files").resolve(filesDir))) {
            copyTree(root.resolve("files").resolve(filesDir), work);
        }
        if (c.has("config")) {
            ObjectNode cfg = (ObjectNode) JSON.readTree(model.resolve("config.json").toFile());
            c.get("config").fields().forEachRemaining(e -> cfg.set(e.getKey(), e.getValue()));
            JSON.writeValue(model.resolve("config.json").toFile(), cfg);
        }
        if (c.has("safetensors")) {
            editSafetensors(model.resolve("model.safetensors"), c.get("safetensors"));
        }
        for (JsonNode d : c.path("delete")) {
            Files.delete(model.resolve(d.asText()));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = c.path("write").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path f = work.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue().asText());
        }
        List<String> args = new ArrayList<>();
        for (JsonNode a : c.get("args")) {
            args.add(a.asText().replace("${WORK}", work.toString()).replace("${MODEL}", model.toString())
                    .replace("${OUT}", out.toString()));
        }
        Map<String, String> before = hashes(work, out);
        String sentinel = sha256(out.resolve("SENTINEL.txt"));

        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(stdout, true), new PrintWriter(stderr, true), args.toArray(new String[0]));
        String err = stderr.toString();
        String context = id + ": " + String.join(" ", args) + "\nstderr:\n" + err + "stdout:\n" + stdout;

        assertEquals(c.get("exit").asInt(), code, "exit code of " + context);
        List<String> errorLines = err.lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errorLines.size(), "exactly one error line in " + context);
        String want = c.get("error").asText().toLowerCase(Locale.ROOT);
        assertTrue(errorLines.get(0).toLowerCase(Locale.ROOT).contains(want), "the error line must contain '" + want + "': " + context);
        assertFalse(err.lines().anyMatch(l -> l.startsWith("\tat ") || l.matches("\\s+at [\\w.$]+\\(.*")), "stack trace in " + context);
        assertFalse(errorLines.get(0).matches(".*\\b(java|javax|ai\\.djl|com\\.fasterxml)\\.[\\w.]*(Exception|Error)\\b.*"),
                "raw exception text in " + context);

        assertEquals(sentinel, sha256(out.resolve("SENTINEL.txt")), "sentinel beside the output changed: " + id);
        Map<String, String> after = hashes(work, out);
        assertEquals(before, after, "input files changed, appeared or vanished: " + id);
    }

    /** sha256 of every file and directory under {@code work} outside {@code out}, by relative path. */
    static Map<String, String> hashes(Path work, Path out) throws IOException {
        Map<String, String> m = new TreeMap<>(FileHashes.tree(work));
        m.keySet().removeIf(k -> work.resolve(k).startsWith(out));
        return m;
    }

    static String sha256(Path p) throws IOException {
        return FileHashes.sha256(p);
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Applies a case's safetensors edits: header entries merged, tensors removed or poked, the file cut short. */
    static void editSafetensors(Path file, JsonNode edit) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        byte[] data = java.util.Arrays.copyOfRange(all, 8 + (int) n, all.length);
        for (Iterator<Map.Entry<String, JsonNode>> it = edit.path("header").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!header.has(e.getKey())) {
                fail("no tensor " + e.getKey() + " to edit in " + file);
            }
            ObjectNode entry = (ObjectNode) header.get(e.getKey());
            e.getValue().fields().forEachRemaining(f -> entry.set(f.getKey(), f.getValue()));
        }
        for (JsonNode r : edit.path("remove")) {
            header.remove(r.asText());
        }
        if (edit.has("poke")) {
            JsonNode p = edit.get("poke");
            long start = header.get(p.get("tensor").asText()).get("data_offsets").get(0).asLong();
            float v = Float.parseFloat(p.get("value").asText());
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) (start + 4L * p.get("index").asLong()), v);
        }
        byte[] h = JSON.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        byte[] hp = java.util.Arrays.copyOf(h, padded);
        java.util.Arrays.fill(hp, h.length, padded, (byte) ' ');
        long headerLength = edit.has("headerLength") ? edit.get("headerLength").asLong() : padded;
        ByteBuffer outBuf = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        outBuf.putLong(headerLength).put(hp).put(data);
        byte[] bytes = outBuf.array();
        if (edit.has("truncate")) {
            int keep = edit.get("truncate").asInt();
            bytes = java.util.Arrays.copyOf(bytes, keep >= 0 ? keep : bytes.length + keep);
        }
        Files.write(file, bytes);
    }
}
