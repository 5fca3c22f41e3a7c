package dev.jround.kernel.calib;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.data.CalibrationRecord;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.DatasetProvider;
import dev.jround.spi.data.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pipeline behaviour with a character tokenizer: truncation, filtering, num, mixing, defaults, batching. */
class PipelineTest {

    /** One token per character (its code point), BOS 1 in front, optional EOS 2 at the end. */
    static final class CharTokenizer implements Tokenizer {
        final boolean eos;

        CharTokenizer(boolean eos) {
            this.eos = eos;
        }

        @Override
        public long[] encode(String text, boolean special) {
            List<Long> ids = new ArrayList<>();
            if (special) {
                ids.add(1L);
            }
            text.codePoints().forEach(c -> ids.add((long) c));
            if (special && eos) {
                ids.add(2L);
            }
            return ids.stream().mapToLong(Long::longValue).toArray();
        }

        @Override
        public String decode(long[] ids, boolean skip) {
            return "";
        }

        @Override
        public long bosTokenId() {
            return 1;
        }

        @Override
        public long eosTokenId() {
            return eos ? 2 : -1;
        }

        @Override
        public long padTokenId() {
            return -1;
        }

        @Override
        public int vocabSize() {
            return 0x110000;
        }

        @Override
        public String idToToken(long id) {
            return "";
        }

        @Override
        public boolean hasChatTemplate() {
            return false;
        }

        @Override
        public String applyChatTemplate(List<Map<String, String>> m, boolean g) {
            throw new IllegalStateException("no template");
        }

        @Override
        public int modelMaxLength() {
            return Integer.MAX_VALUE;
        }

        @Override
        public void close() {
        }
    }

    /** Serves names "list:<n>:<len>" as n texts of len distinct-ish characters, in order; cached only if asked. */
    static class ListProvider implements DatasetProvider {
        final boolean offline;

        ListProvider(boolean offline) {
            this.offline = offline;
        }

        @Override
        public PluginDescriptor descriptor() {
            return new PluginDescriptor(PluginKind.DATASET, "list", "1", "", Map.of("datasets", List.of("list-N-L")));
        }

        @Override
        public boolean accepts(String name) {
            return name.startsWith("list-") || name.equals(CalibrationPipeline.DEFAULT_DATASET);
        }

        @Override
        public boolean availableOffline(String name, DatasetContext ctx) {
            return offline;
        }

        @Override
        public List<CalibrationRecord> load(String name, Map<String, String> params, DatasetContext ctx) {
            String[] p = name.equals(CalibrationPipeline.DEFAULT_DATASET) ? new String[]{"list", "5", "20"} : name.split("-");
            int n = Integer.parseInt(p[1]);
            int len = Integer.parseInt(p[2]);
            List<CalibrationRecord> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < len; k++) {
                    sb.appendCodePoint(1000 * (p[2].length() + p[1].length() * 10) + 100 * i + k % 50 + 10);
                }
                out.add(CalibrationRecord.ofText(sb.toString()));
            }
            return out;
        }
    }

    /** Serves "self" from the context's sampler, as the self-generation plugin does. */
    static final class SelfProvider implements DatasetProvider {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.DATASET, "self", "1", "");
        }

        @Override
        public boolean accepts(String name) {
            return name.equals("self");
        }

        @Override
        public List<CalibrationRecord> load(String name, Map<String, String> params, DatasetContext ctx) {
            int num = Integer.parseInt(params.getOrDefault(NUM, "4"));
            return ctx.sampler().orElseThrow().sample(num, ctx.seqlen(), ctx.seed(), 1.0).stream()
                    .map(CalibrationRecord::ofTokens).toList();
        }
    }

    static CalibrationContext ctx(int nsamples, int seqlen, List<String> log) {
        return CalibrationContext.builder(new CharTokenizer(false)).nsamples(nsamples).seqlen(seqlen).seed(42)
                .online(false).cacheRoots(List.of(Path.of("/nonexistent/hub")))
                .sampler((count, length, seed, t) -> {
                    List<long[]> rows = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        long[] r = new long[length];
                        r[0] = 1;
                        for (int k = 1; k < length; k++) {
                            r[k] = 10 + i * 7 + k;
                        }
                        rows.add(r);
                    }
                    return rows;
                })
                .log(log::add).build();
    }

    @Test
    void truncatesToSeqlenAndDropsShortSamples() {
        CalibrationSet set = new CalibrationPipeline(List.of(new ListProvider(true), new SelfProvider()))
                .prepare("list-3-40,list-4-5", ctx(10, 16, new ArrayList<>()));
        // list-4-5 gives 6-token rows (< 16): all dropped; list-3-40 gives 3 rows cut to 16
        assertEquals(3, set.size());
        for (long[] r : set.inputIds()) {
            assertEquals(16, r.length);
            assertEquals(1, r[0]);
        }
        var sources = set.summary().sources();
        assertEquals(0, sources.get(1).kept());
        assertEquals(3, sources.get(0).used());
        assertTrue(set.summary().notes().get(0).contains("only 3 of 10"));
    }

    @Test
    void numTakesTheFirstRowsAndSharesTheRest() {
        CalibrationSet set = new CalibrationPipeline(List.of(new ListProvider(true)))
                .prepare("list-6-30:num=2,list-8-30", ctx(6, 16, new ArrayList<>()));
        assertEquals(6, set.size());
        assertEquals(2, set.summary().sources().get(0).used());
        assertEquals(4, set.summary().sources().get(1).used());
    }

    @Test
    void evenSplitGivesShortfallToLargerDatasets() {
        CalibrationSet set = new CalibrationPipeline(List.of(new ListProvider(true)))
                .prepare("list-9-30,list-1-30,list-5-30", ctx(9, 16, new ArrayList<>()));
        // sorted by size: 1, 5, 9 rows; targets 9//3=3 -> 1, then (9-1)//2=4, then (9-5)//1=4
        assertEquals(List.of(4, 1, 4), set.summary().sources().stream().map(CalibrationSummary.Source::used).toList());
    }

    @Test
    void degenerateRowsAreDropped() {
        DatasetProvider repeated = new ListProvider(true) {
            @Override
            public List<CalibrationRecord> load(String name, Map<String, String> params, DatasetContext ctx) {
                return List.of(CalibrationRecord.ofText("x".repeat(40)), CalibrationRecord.ofText("abcdefghijklmnopqrstuvwxyz"));
            }
        };
        CalibrationSet set = new CalibrationPipeline(List.of(repeated)).prepare("list-1-1", ctx(4, 16, new ArrayList<>()));
        assertEquals(1, set.size());
        assertEquals('a', set.inputIds().get(0)[1]);
    }

    @Test
    void defaultIsPileWhenCachedElseSelfGeneratedWithOneLogLine() {
        List<String> log = new ArrayList<>();
        CalibrationPipeline cached = new CalibrationPipeline(List.of(new ListProvider(true), new SelfProvider()));
        CalibrationSet pile = cached.prepare(null, ctx(3, 8, log));
        assertEquals(CalibrationPipeline.DEFAULT_DATASET, pile.summary().spec());
        assertTrue(pile.summary().defaulted());
        assertTrue(log.isEmpty());

        CalibrationPipeline uncached = new CalibrationPipeline(List.of(new ListProvider(false), new SelfProvider()));
        CalibrationSet self = uncached.prepare("", ctx(3, 8, log));
        assertEquals("self:num=3", self.summary().spec());
        assertEquals(1, log.size());
        assertTrue(log.get(0).contains("not in the local Hugging Face cache") && log.get(0).contains("self:num=3"), log.get(0));
        assertEquals(3, self.size());
        assertTrue(self.summary().lines().get(0).contains("self:num=3  (default)"));
    }

    @Test
    void tokenIdSourcesNeedNoTokenizerButTextDoes() {
        CalibrationContext noTok = CalibrationContext.builder(null).nsamples(2).seqlen(6).seed(1).online(false)
                .cacheRoots(List.of()).sampler(ctx(2, 6, new ArrayList<>()).sampler().orElseThrow()).build();
        CalibrationPipeline p = new CalibrationPipeline(List.of(new ListProvider(true), new SelfProvider()));
        assertEquals(2, p.prepare("self:num=2", noTok).size());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> p.prepare("list-2-20", noTok));
        assertTrue(e.getMessage().contains("no tokenizer"));
    }

    @Test
    void codeModelsDefaultToOpenCodeInstructWhenCached() {
        DatasetProvider opencode = new ListProvider(true) {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.DATASET, "code", "1", "");
            }

            @Override
            public boolean accepts(String name) {
                return name.equals("nvidia/OpenCodeInstruct") || name.equals("opencode-instruct");
            }
        };
        List<String> log = new ArrayList<>();
        CalibrationContext code = CalibrationContext.builder(new CharTokenizer(false)).nsamples(5).seqlen(8)
                .online(false).cacheRoots(List.of()).codeModel(true).log(log::add).build();
        assertEquals("opencode-instruct:concat=true:num=5", new CalibrationPipeline(List.of(opencode, new SelfProvider())).defaultSpec(code));
        assertTrue(log.isEmpty());
        assertEquals("self:num=5", new CalibrationPipeline(List.of(new ListProvider(true), new SelfProvider())).defaultSpec(code));
        assertTrue(log.get(0).startsWith("nvidia/OpenCodeInstruct is not in the local Hugging Face cache"), log.get(0));
    }

    @Test
    void unknownDatasetListsWhatIsKnown() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new CalibrationPipeline(List.of(new ListProvider(true))).prepare("nope", ctx(2, 8, new ArrayList<>())));
        assertTrue(e.getMessage().contains("'nope'"));
        assertTrue(e.hint().contains("list-N-L"));
    }

    @Test
    void chatTemplateWithoutTemplateIsAClearError() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new CalibrationPipeline(List.of(new ListProvider(true))).prepare("list-2-20:apply_chat_template", ctx(2, 8, new ArrayList<>())));
        assertTrue(e.getMessage().contains("chat template"));
    }

    @Test
    void exactMatchBeatsFuzzy() {
        DatasetProvider fuzzy = new ListProvider(true) {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.DATASET, "aaa-fuzzy", "1", "");
            }

            @Override
            public Match match(String name) {
                return Match.FUZZY;
            }
        };
        CalibrationPipeline p = new CalibrationPipeline(List.of(fuzzy, new ListProvider(true)));
        assertEquals("list", p.bestProvider("list-1-1").descriptor().id());
        assertEquals("aaa-fuzzy", p.bestProvider("zzz").descriptor().id());
    }

    @Test
    void truncationKeepsTrailingSpecialToken() {
        long[] ids = Tokenization.encodeTruncated(new CharTokenizer(true), "abcdefgh", 5);
        assertArrayEquals(new long[]{1, 'a', 'b', 'c', 2}, ids);
        assertArrayEquals(new long[]{1, 'a', 'b', 2}, Tokenization.encodeTruncated(new CharTokenizer(true), "ab", 5));
    }

    @Test
    void intendedConcatenationEmitsExactChunksWithBosAndEos() {
        List<long[]> samples = List.of(new long[]{1, 10, 11, 12, 2}, new long[]{1, 13, 14, 2}, new long[]{1, 15, 16, 17, 18, 2});
        List<long[]> chunks = Concatenation.chunk(samples, 4, 1, 2, Concatenation.Mode.INTENDED);
        assertEquals(4, chunks.size());
        assertArrayEquals(new long[]{1, 10, 11, 2}, chunks.get(0));
        assertArrayEquals(new long[]{1, 12, 13, 2}, chunks.get(1));
        assertArrayEquals(new long[]{1, 14, 15, 2}, chunks.get(2));
        assertArrayEquals(new long[]{1, 16, 17, 2}, chunks.get(3));
    }

    @Test
    void referenceConcatenationDriftsAsTheReferenceDoes() {
        // os grows by one per BOS-carrying sample: the second sample already overflows with a negative keep
        List<long[]> samples = List.of(new long[]{1, 10, 11, 12, 13, 14}, new long[]{1, 15, 16, 17, 18, 19});
        List<long[]> chunks = Concatenation.chunk(samples, 4, 1, -1, Concatenation.Mode.REFERENCE);
        assertArrayEquals(new long[]{1, 10, 11, 12}, chunks.get(0));
        // buf=[13,14], os=2: keep = 4-2-2 = 0 -> [1,13,14]; buf = s[0:] = all five
        assertArrayEquals(new long[]{1, 13, 14}, chunks.get(1));
        assertEquals(2, chunks.size());
    }

    @Test
    void batchesCutToSeqlenAndSkipDegenerateRows() {
        long[] good = {1, 2, 3, 4, 5, 6};
        long[] bad = {1, 7, 7, 7, 7, 7};
        long[] ones = {1, 1, 1, 1, 1, 1};
        CalibrationSet set = new CalibrationSet(List.of(good, bad, good, bad), List.of(ones, ones, ones, ones),
                CalibrationPipeline.fromMemory(List.of(), null, 4).summary());
        List<CalibrationSet.Batch> batches = set.batches(2, 4);
        assertEquals(2, batches.size());
        assertEquals(1, batches.get(0).size());
        assertArrayEquals(new long[]{1, 2, 3, 4}, batches.get(0).inputIds()[0]);
        assertEquals(4, batches.get(0).attentionMasks()[0].length);
        CalibrationSet allBad = new CalibrationSet(List.of(bad), List.of(ones), set.summary());
        assertTrue(allBad.batches(8, 6).isEmpty());
    }

    @Test
    void inMemoryItemsAreNotShuffledOrTruncatedAndMaskTheLastPosition() {
        CalibrationSet set = CalibrationPipeline.fromMemory(
                List.of("abcdefghij", new long[]{1, 5, 6}, new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9}), new CharTokenizer(false), 4);
        assertEquals(2, set.size());
        assertArrayEquals(new long[]{1, 'a', 'b', 'c'}, set.inputIds().get(0));
        assertEquals(9, set.inputIds().get(1).length, "token ids are not truncated");
        assertArrayEquals(new long[]{1, 1, 1, 0}, set.attentionMasks().get(0));
        assertFalse(set.summary().notes().isEmpty());
        assertThrows(InvalidInputException.class, () -> CalibrationPipeline.fromMemory(List.of(3.5), null, 4));
    }

    @Test
    void cachePathsFollowTheHuggingFaceVariables() {
        assertEquals(List.of(Path.of("/h/hub"), Path.of("/h/datasets")), HfCachePaths.roots(Map.of("HF_HOME", "/h")));
        assertEquals(List.of(Path.of("/x"), Path.of("/y")),
                HfCachePaths.roots(Map.of("HF_HOME", "/h", "HF_HUB_CACHE", "/x", "HF_DATASETS_CACHE", "/y")));
        assertEquals(Path.of("/c/huggingface/hub"), HfCachePaths.roots(Map.of("XDG_CACHE_HOME", "/c")).get(0));
        assertFalse(HfCachePaths.online(Map.of("HF_HUB_OFFLINE", "1")));
        assertFalse(HfCachePaths.online(Map.of("HF_DATASETS_OFFLINE", "TRUE")));
        assertTrue(HfCachePaths.online(Map.of("HF_HUB_OFFLINE", "0")));
    }
}
