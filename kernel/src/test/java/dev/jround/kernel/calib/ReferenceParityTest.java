package dev.jround.kernel.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.DatasetProvider;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays every case of the reference fixture through the kernel pipeline with a lookup tokenizer and
 * in-test providers that read the fixture's files the way the reference's loaders do; the rows must be
 * the reference's rows, id for id.
 */
class ReferenceParityTest {

    private static final JsonNode FIXTURE = ReferenceFixture.load();

    /** The reference's local json/jsonl loader, over the fixture's embedded files. */
    static final class FixtureFiles implements DatasetProvider {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.DATASET, "fixture-files", "1", "fixture files");
        }

        @Override
        public boolean accepts(String name) {
            return FIXTURE.get("files").has(name);
        }

        @Override
        public List<CalibrationRecord> load(String name, Map<String, String> params, DatasetContext ctx) {
            String content = FIXTURE.get("files").get(name).asText();
            List<JsonNode> values = new ArrayList<>();
            try {
                ObjectMapper om = new ObjectMapper();
                if (name.endsWith(".jsonl")) {
                    for (String line : content.split("\n")) {
                        values.add(om.readTree(line));
                    }
                } else {
                    om.readTree(content).forEach(values::add);
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
            List<String> texts = new ArrayList<>();
            for (JsonNode v : values) {
                JsonNode t = v.isTextual() ? v : v.size() == 1 ? v.elements().next() : v.get("text");
                texts.add(t.asText().stripTrailing());
            }
            List<CalibrationRecord> out = new ArrayList<>();
            for (int i : ctx.pythonShuffleOrder(texts.size(), ctx.seed())) {
                out.add(CalibrationRecord.ofText(texts.get(i)));
            }
            return out;
        }
    }

    /** The reference's OpenCodeInstruct loader over the fixture rows: permutation, text or chat, shuffle, always concat. */
    static final class FixtureOpenCode implements DatasetProvider {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.DATASET, "fixture-opencode", "1", "fixture opencode");
        }

        @Override
        public boolean accepts(String name) {
            return name.equals("opencode-instruct");
        }

        @Override
        public List<CalibrationRecord> load(String name, Map<String, String> params, DatasetContext ctx) {
            throw new UnsupportedOperationException("open() is used");
        }

        @Override
        public Loaded open(String name, Map<String, String> params, DatasetContext ctx) {
            JsonNode rows = FIXTURE.get("opencode_rows");
            boolean chat = Boolean.parseBoolean(params.get(CHAT_TEMPLATE));
            String system = params.get(SYSTEM_PROMPT);
            List<String> texts = new ArrayList<>();
            for (int idx : ctx.numpyPermutation(rows.size(), ctx.seed())) {
                String in = rows.get(idx).get("input").asText();
                String out = rows.get(idx).get("output").asText();
                if (chat) {
                    List<Map<String, String>> msgs = new ArrayList<>();
                    if (system != null && !system.isEmpty()) {
                        msgs.add(Map.of("role", "system", "content", system));
                    }
                    msgs.add(Map.of("role", "user", "content", in));
                    msgs.add(Map.of("role", "assistant", "content", out));
                    texts.add(ctx.tokenizer().applyChatTemplate(msgs, false));
                } else {
                    texts.add(in + "\n\n" + out);
                }
            }
            List<CalibrationRecord> records = new ArrayList<>();
            for (int i : ctx.pythonShuffleOrder(texts.size(), ctx.seed())) {
                records.add(CalibrationRecord.ofText(texts.get(i)));
            }
            // the reference renders the chat text once here and once more in its generic tokenizer function
            return new Loaded("fixture OpenCodeInstruct rows", records, true, chat, List.of());
        }
    }

    private static CalibrationSet run(JsonNode c, Concatenation.Mode mode) {
        String spec = c.get("spec").asText().replace("{a}", "a.jsonl").replace("{b}", "b.json");
        CalibrationContext ctx = CalibrationContext.builder(new ReferenceFixture.LookupTokenizer(true))
                .nsamples(c.get("nsamples").asInt()).seqlen(c.get("seqlen").asInt()).seed(c.get("seed").asLong())
                .online(false).cacheRoots(List.of()).build();
        return new CalibrationPipeline(List.of(new FixtureFiles(), new FixtureOpenCode())).concatMode(mode)
                .prepare(spec, ctx);
    }

    @Test
    void everyReferenceCaseGivesTheReferenceRows() {
        int cases = 0;
        for (JsonNode c : FIXTURE.get("cases")) {
            if (c.get("name").asText().startsWith("hub-")) {
                continue; // hub datasets need the dataset-files plugin: checked in the it module
            }
            CalibrationSet set = run(c, Concatenation.Mode.REFERENCE);
            List<long[]> expected = ReferenceFixture.rows(c.get("input_ids"));
            String name = c.get("name").asText();
            assertEquals(expected.size(), set.size(), name + ": row count");
            int seqlen = c.get("seqlen").asInt();
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), set.inputIds().get(i), name + ": row " + i);
                long[] mask = ReferenceFixture.longs(c.get("attention_mask").get(i));
                int n = Math.min(seqlen, mask.length);
                assertArrayEquals(java.util.Arrays.copyOf(mask, n), java.util.Arrays.copyOf(set.attentionMasks().get(i), n),
                        name + ": mask " + i);
            }
            cases++;
        }
        assertEquals(9, cases);
    }

    @Test
    void intendedConcatenationGivesFullLengthChunksWithBosAndNoDrift() {
        JsonNode concat = null;
        for (JsonNode c : FIXTURE.get("cases")) {
            if (c.get("name").asText().equals("concat-opencode")) {
                concat = c;
            }
        }
        CalibrationSet set = run(concat, Concatenation.Mode.INTENDED);
        assertEquals(concat.get("nsamples").asInt(), set.size());
        for (long[] row : set.inputIds()) {
            assertEquals(32, row.length);
            assertEquals(1, row[0]);
            for (int i = 1; i < row.length; i++) {
                assertTrue(row[i] != 1, "BOS only at the start");
            }
        }
        // the first chunk is identical in both modes (the reference drifts only from the second sample on)
        assertArrayEquals(ReferenceFixture.longs(concat.get("input_ids").get(0)), set.inputIds().get(0));
    }
}
