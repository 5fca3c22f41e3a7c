package dev.jround.kernel.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.data.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixture written by tools/fixtures/datasets/make_reference_fixtures.py from the reference AutoRound
 * data preparation on the aidreams260K tokenizer.
 */
final class ReferenceFixture {

    private static JsonNode cached;

    private ReferenceFixture() {
    }

    static synchronized JsonNode load() {
        if (cached == null) {
            try (InputStream in = ReferenceFixture.class.getResourceAsStream("/calib/reference-aidreams260K.json")) {
                cached = new ObjectMapper().readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cached;
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asLong();
        }
        return out;
    }

    static List<long[]> rows(JsonNode arr) {
        List<long[]> out = new ArrayList<>();
        arr.forEach(r -> out.add(longs(r)));
        return out;
    }

    /**
     * Replays the aidreams260K tokenizer from the recorded encodings, and its chat template (the small
     * ChatML-like template the fixture script installs) by hand.
     */
    static final class LookupTokenizer implements Tokenizer {
        private final Map<String, long[]> encodings = new HashMap<>();
        private final boolean withTemplate;

        LookupTokenizer(boolean withTemplate) {
            this.withTemplate = withTemplate;
            load().get("encodings").fields().forEachRemaining(e -> encodings.put(e.getKey(), longs(e.getValue())));
        }

        @Override
        public long[] encode(String text, boolean addSpecialTokens) {
            long[] ids = encodings.get(text);
            if (ids == null) {
                throw new IllegalStateException("fixture has no encoding for: " + text);
            }
            return addSpecialTokens ? ids.clone() : java.util.Arrays.copyOfRange(ids, 1, ids.length);
        }

        @Override
        public String decode(long[] ids, boolean skipSpecialTokens) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long bosTokenId() {
            return 1;
        }

        @Override
        public long eosTokenId() {
            return 2;
        }

        @Override
        public long padTokenId() {
            return -1;
        }

        @Override
        public int vocabSize() {
            return 512;
        }

        @Override
        public String idToToken(long id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean hasChatTemplate() {
            return withTemplate;
        }

        @Override
        public String applyChatTemplate(List<Map<String, String>> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (Map<String, String> m : messages) {
                sb.append("<|").append(m.get("role")).append("|>\n").append(m.get("content")).append('\n');
            }
            if (addGenerationPrompt) {
                sb.append("<|assistant|>\n");
            }
            return sb.toString();
        }

        @Override
        public int modelMaxLength() {
            return 128;
        }

        @Override
        public void close() {
        }
    }
}
