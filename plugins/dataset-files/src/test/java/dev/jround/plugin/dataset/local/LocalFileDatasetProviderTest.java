package dev.jround.plugin.dataset.local;

import dev.jround.plugin.dataset.files.ReversingContext;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalFileDatasetProviderTest {

    @TempDir
    Path dir;

    private final LocalFileDatasetProvider provider = new LocalFileDatasetProvider();

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(LocalFileDatasetProviderTest.class.getResource("/parquet/" + name).toURI());
    }

    private static List<String> texts(List<CalibrationRecord> records) {
        return records.stream().map(CalibrationRecord::text).toList();
    }

    @Test
    void isFoundThroughServiceLoader() {
        assertTrue(ServiceLoader.load(DatasetProvider.class).stream()
                .anyMatch(p -> p.type() == LocalFileDatasetProvider.class));
        assertEquals("local", provider.descriptor().id());
    }

    @Test
    void acceptsOnlyExistingFilesWithKnownNames() throws Exception {
        Path f = Files.writeString(dir.resolve("calib.jsonl"), "\"a\"\n");
        assertTrue(provider.accepts(f.toString()));
        assertEquals(DatasetProvider.Match.EXACT, provider.match(f.toString()));
        assertFalse(provider.accepts(dir.resolve("missing.json").toString()));
        assertFalse(provider.accepts("NeelNanda/pile-10k"));
        Path other = Files.writeString(dir.resolve("data.csv"), "x");
        assertFalse(provider.accepts(other.toString()));
    }

    @Test
    void jsonlFieldsAsTheReferenceReadsThem() throws Exception {
        Path f = Files.writeString(dir.resolve("a.jsonl"), String.join("\n",
                "\"bare string  \"",
                "{\"prompt\": \"single key of any name\"}",
                "{\"text\": \"text among others\\n\\n\", \"id\": 3}",
                "{\"input_ids\": \"string ids\", \"meta\": 1}",
                "",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"id\": 9}",
                "{\"content\": \"web text\", \"url\": \"u\"}",
                "{\"code\": \"print(1)\", \"repo\": \"r\"}",
                "{\"input_ids\": [1, 5, 7], \"attention_mask\": [1, 1, 1]}"));
        List<CalibrationRecord> r = LocalFileDatasetProvider.read(f);
        assertEquals(8, r.size());
        assertEquals("bare string", r.get(0).text());
        assertEquals("single key of any name", r.get(1).text());
        assertEquals("text among others", r.get(2).text());
        assertEquals("string ids", r.get(3).text());
        assertEquals(List.of(Map.of("role", "user", "content", "hi")), r.get(4).messages());
        assertEquals("web text", r.get(5).text());
        assertEquals("print(1)", r.get(6).text());
        assertArrayEquals(new long[]{1, 5, 7}, r.get(7).tokenIds());
    }

    @Test
    void jsonArrayObjectAndDataFieldLayouts() throws Exception {
        Path arr = Files.writeString(dir.resolve("arr.json"), "[\"one\", {\"text\": \"two\"}, {\"k\": \"three\"}]");
        assertEquals(List.of("one", "two", "three"), texts(LocalFileDatasetProvider.read(arr)));
        Path obj = Files.writeString(dir.resolve("obj.json"), "{\"a\": \"first\", \"b\": {\"text\": \"second\"}}");
        assertEquals(List.of("first", "second"), texts(LocalFileDatasetProvider.read(obj)));
        Path data = Files.writeString(dir.resolve("data.json"), "{\"data\": [{\"text\": \"x\"}, \"y\"]}");
        assertEquals(List.of("x", "y"), texts(LocalFileDatasetProvider.read(data)));
    }

    @Test
    void txtIsOneSamplePerNonEmptyLine() throws Exception {
        Path f = Files.writeString(dir.resolve("lines.txt"), "first line  \n\n   \nsecond line\n");
        assertEquals(List.of("first line", "second line"), texts(LocalFileDatasetProvider.read(f)));
    }

    @Test
    void loadAppliesTheContextsSeededOrder() throws Exception {
        Path f = Files.writeString(dir.resolve("o.jsonl"), "\"a\"\n\"b\"\n\"c\"\n");
        ReversingContext ctx = new ReversingContext();
        assertEquals(List.of("c", "b", "a"), texts(provider.load(f.toString(), Map.of(), ctx)));
        assertEquals(42, ctx.seenSeed);
        DatasetProvider.Loaded loaded = provider.open(f.toString(), Map.of("concat", "true", "apply_chat_template", "false", "split", "x"), ctx);
        assertTrue(loaded.concatenate());
        assertFalse(loaded.applyChatTemplate());
        assertTrue(loaded.source().endsWith("o.jsonl (3 samples)"));
        assertEquals(1, loaded.notes().size());
    }

    @Test
    void parquetTextColumnWithUnicodeAndOtherColumns() throws Exception {
        List<CalibrationRecord> r = LocalFileDatasetProvider.read(resource("text.parquet"));
        assertEquals(12, r.size());
        assertEquals("Sample number 0: the quiet lattice hums while gradients drift over layer 0.", r.get(0).text());
        assertEquals("Caf\u00e9 \u2014 na\u00efve r\u00e9sum\u00e9, \u65e5\u672c\u8a9e and emoji \uD83D\uDE00 survive the round trip.",
                r.get(5).text(), "utf-8 kept, trailing spaces stripped");
    }

    @Test
    void parquetZstdWithSeveralRowGroupsReadsEveryRow() throws Exception {
        assertEquals(texts(LocalFileDatasetProvider.read(resource("text.parquet"))),
                texts(LocalFileDatasetProvider.read(resource("text-zstd.parquet"))));
    }

    @Test
    void parquetNestedChatMessagesAndCodeColumn() throws Exception {
        List<CalibrationRecord> chat = LocalFileDatasetProvider.read(resource("chat.parquet"));
        assertEquals(6, chat.size());
        assertNull(chat.get(0).text());
        assertEquals(List.of(Map.of("role", "user", "content", "question 3?"), Map.of("role", "assistant", "content", "answer 3.")),
                chat.get(3).messages());
        List<CalibrationRecord> code = LocalFileDatasetProvider.read(resource("code.parquet"));
        assertEquals("def f4(x):\n    return x + 4", code.get(4).text());
    }

    @Test
    void badFilesGiveOneLineErrorsNamingTheFile() throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.jsonl"), "\"ok\"\n{not json\n");
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> LocalFileDatasetProvider.read(broken));
        assertTrue(e.getMessage().contains("broken.jsonl line 2"), e.getMessage());
        Path nonString = Files.writeString(dir.resolve("num.json"), "[{\"a\": 1, \"b\": 2}]");
        InvalidInputException n = assertThrows(InvalidInputException.class, () -> LocalFileDatasetProvider.read(nonString));
        assertTrue(n.getMessage().contains("num.json sample 1"), n.getMessage());
        Path number = Files.writeString(dir.resolve("n.jsonl"), "42\n");
        assertTrue(assertThrows(InvalidInputException.class, () -> LocalFileDatasetProvider.read(number))
                .getMessage().contains("data must be a string"));
        Path fake = Files.writeString(dir.resolve("fake.parquet"), "not parquet at all");
        assertTrue(assertThrows(CorruptInputException.class, () -> LocalFileDatasetProvider.read(fake))
                .getMessage().contains("fake.parquet"));
    }
}
