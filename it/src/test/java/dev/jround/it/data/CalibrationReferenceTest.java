package dev.jround.it.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.it.Shared;
import dev.jround.kernel.calib.CalibrationContext;
import dev.jround.kernel.calib.CalibrationPipeline;
import dev.jround.kernel.calib.CalibrationSet;
import dev.jround.kernel.calib.Concatenation;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.data.TokenizerProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end against the reference: the real aidreams260K tokenizer (tokenizer-hf plugin), the real
 * dataset plugins and the kernel pipeline must give exactly the token ids the reference AutoRound data
 * preparation gave on the same files, seeds and lengths (fixtures from
 * tools/fixtures/datasets/make_reference_fixtures.py).
 */
class CalibrationReferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static PluginRegistry registry;
    private static Tokenizer tokenizer;

    @TempDir
    static Path tmp;

    static JsonNode resource(String path) throws IOException {
        try (InputStream in = CalibrationReferenceTest.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            return JSON.readTree(in);
        }
    }

    static JsonNode kernelFixture() throws IOException {
        // the kernel module's fixture, read from its source tree (the it module runs from its own directory)
        Path p = Path.of("..", "kernel", "src", "test", "resources", "calib", "reference-aidreams260K.json");
        return JSON.readTree(p.toFile());
    }

    @BeforeAll
    static void openTokenizer() throws IOException {
        Path model = Shared.aidreams();
        JsonNode fixture = kernelFixture();
        // the model's tokenizer files plus the chat template the reference run installed
        Path dir = Files.createDirectories(tmp.resolve("aidreams-chat"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")) {
            Files.copy(model.resolve(f), dir.resolve(f));
        }
        Files.writeString(dir.resolve("chat_template.jinja"), fixture.get("chat_template").asText(), StandardCharsets.UTF_8);
        registry = new ServiceLoaderRegistry(CalibrationReferenceTest.class.getClassLoader());
        TokenizerProvider provider = registry.all(TokenizerProvider.class).stream().filter(p -> p.canLoad(dir)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no tokenizer plugin reads " + dir));
        tokenizer = provider.load(dir);
        assertTrue(tokenizer.hasChatTemplate());
    }

    @AfterAll
    static void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    private static CalibrationSet prepare(String spec, int nsamples, int seqlen, long seed, List<Path> cache,
                                          Concatenation.Mode mode) {
        CalibrationContext ctx = CalibrationContext.builder(tokenizer).nsamples(nsamples).seqlen(seqlen).seed(seed)
                .cacheRoots(cache).online(false).build();
        return new CalibrationPipeline(registry).concatMode(mode).prepare(spec, ctx);
    }

    private static void assertRows(JsonNode expected, CalibrationSet actual, String name) {
        assertEquals(expected.size(), actual.size(), name + ": rows");
        for (int i = 0; i < expected.size(); i++) {
            long[] e = new long[expected.get(i).size()];
            for (int k = 0; k < e.length; k++) {
                e[k] = expected.get(i).get(k).asLong();
            }
            assertArrayEquals(e, actual.inputIds().get(i), name + ": row " + i);
        }
    }

    @Test
    void localFilesPlainChatAndMixedGiveTheReferenceIds() throws IOException {
        JsonNode fixture = kernelFixture();
        Path a = tmp.resolve("a.jsonl");
        Path b = tmp.resolve("b.json");
        Files.writeString(a, fixture.get("files").get("a.jsonl").asText(), StandardCharsets.UTF_8);
        Files.writeString(b, fixture.get("files").get("b.json").asText(), StandardCharsets.UTF_8);
        int checked = 0;
        for (JsonNode c : fixture.get("cases")) {
            String spec = c.get("spec").asText();
            if (spec.startsWith("opencode") || c.get("name").asText().startsWith("hub-")) {
                continue;
            }
            CalibrationSet set = prepare(spec.replace("{a}", a.toString()).replace("{b}", b.toString()),
                    c.get("nsamples").asInt(), c.get("seqlen").asInt(), c.get("seed").asLong(), List.of(), Concatenation.Mode.INTENDED);
            assertRows(c.get("input_ids"), set, c.get("name").asText());
            checked++;
        }
        assertEquals(7, checked);
    }

    @Test
    void openCodeInstructFromAHubCacheConcatenatesLikeTheReference() throws IOException {
        JsonNode fixture = kernelFixture();
        Path hub = tmp.resolve("hub");
        Path snap = Files.createDirectories(hub.resolve("datasets--nvidia--OpenCodeInstruct/snapshots/0123abcd/data"));
        List<String> lines = new ArrayList<>();
        for (JsonNode row : fixture.get("opencode_rows")) {
            lines.add(JSON.writeValueAsString(row));
        }
        Files.writeString(snap.resolve("train-00000-of-00001.jsonl"), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        Files.createDirectories(hub.resolve("datasets--nvidia--OpenCodeInstruct/refs"));
        Files.writeString(hub.resolve("datasets--nvidia--OpenCodeInstruct/refs/main"), "0123abcd");
        JsonNode c = null;
        for (JsonNode x : fixture.get("cases")) {
            if (x.get("name").asText().equals("concat-opencode")) {
                c = x;
            }
        }
        CalibrationSet set = prepare("opencode-instruct", c.get("nsamples").asInt(), c.get("seqlen").asInt(),
                c.get("seed").asLong(), List.of(hub), Concatenation.Mode.REFERENCE);
        assertRows(c.get("input_ids"), set, "concat-opencode");
        assertTrue(set.summary().sources().get(0).resolved().contains("hub cache"));
    }

    /** Lays a file into a hub cache as huggingface_hub does: a blob, a snapshot symlink to it, refs/main. */
    private static void cache(Path hub, String repo, String rel, Path content) throws IOException {
        Path repoDir = hub.resolve("datasets--" + repo.replace("/", "--"));
        Path blob = repoDir.resolve("blobs").resolve(Integer.toHexString(rel.hashCode()));
        Files.createDirectories(blob.getParent());
        Files.copy(content, blob);
        Path link = repoDir.resolve("snapshots/5eed/" + rel);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), "5eed");
    }

    @Test
    void hubDatasetsFromACacheLayoutGiveTheReferenceIds() throws IOException {
        Path files = Path.of("..", "plugins", "dataset-files", "src", "test", "resources", "hub-files");
        Path hub = tmp.resolve("hf-home/hub");
        cache(hub, "NeelNanda/pile-10k", "data/train-00000-of-00001-4746b8785c874cc7.parquet", files.resolve("pile-10k-train.parquet"));
        cache(hub, "google-research-datasets/mbpp", "full/test-00000-of-00001.parquet", files.resolve("mbpp-test.parquet"));
        cache(hub, "google-research-datasets/mbpp", "full/validation-00000-of-00001.parquet", files.resolve("mbpp-validation.parquet"));
        cache(hub, "BAAI/CCI3-HQ", "data/part_000000.parquet", files.resolve("cci3-part0.parquet"));
        cache(hub, "BAAI/CCI3-HQ", "data/part_000001.parquet", files.resolve("cci3-part1.parquet"));
        int checked = 0;
        for (JsonNode c : kernelFixture().get("cases")) {
            if (!c.get("name").asText().startsWith("hub-")) {
                continue;
            }
            CalibrationSet set = prepare(c.get("spec").asText(), c.get("nsamples").asInt(), c.get("seqlen").asInt(),
                    c.get("seed").asLong(), List.of(tmp.resolve("hf-home/datasets"), hub), Concatenation.Mode.INTENDED);
            assertRows(c.get("input_ids"), set, c.get("name").asText());
            checked++;
        }
        assertEquals(3, checked);
    }

    @Test
    void sharedCalibrationFileGivesTheReferenceIds() throws IOException {
        Path calib = Shared.aidreams().resolve("calib.jsonl");
        JsonNode fixture = resource("/data/reference-shared-calib.json");
        for (JsonNode c : fixture.get("cases")) {
            CalibrationSet set = prepare(calib.toString(), c.get("nsamples").asInt(), c.get("seqlen").asInt(),
                    c.get("seed").asLong(), List.of(), Concatenation.Mode.INTENDED);
            assertRows(c.get("input_ids"), set, "calib.jsonl seqlen " + c.get("seqlen").asInt());
            for (long[] mask : set.attentionMasks()) {
                assertTrue(java.util.Arrays.stream(mask).allMatch(v -> v == 1));
            }
        }
    }
}
