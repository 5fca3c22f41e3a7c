package dev.jround.plugin.dataset.self;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.DatasetProvider;
import dev.jround.spi.data.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SelfGeneratedDatasetProviderTest {

    static final class Ctx implements DatasetContext {
        final TextSampler sampler;
        final List<String> calls = new ArrayList<>();

        Ctx(boolean withSampler) {
            this.sampler = withSampler ? (count, length, seed, temperature) -> {
                calls.add(count + "x" + length + " seed " + seed + " t " + temperature);
                List<long[]> rows = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    long[] r = new long[length];
                    r[0] = 1;
                    for (int k = 1; k < length; k++) {
                        r[k] = 3 + (i + k) % 7;
                    }
                    rows.add(r);
                }
                return rows;
            } : null;
        }

        @Override
        public Tokenizer tokenizer() {
            return null;
        }

        @Override
        public long seed() {
            return 7;
        }

        @Override
        public int seqlen() {
            return 6;
        }

        @Override
        public int nsamples() {
            return 3;
        }

        @Override
        public List<Path> cacheRoots() {
            return List.of();
        }

        @Override
        public boolean online() {
            return false;
        }

        @Override
        public Optional<TextSampler> sampler() {
            return Optional.ofNullable(sampler);
        }
    }

    @Test
    void registeredUnderSelf() {
        assertTrue(ServiceLoader.load(DatasetProvider.class).stream().anyMatch(p -> p.type() == SelfGeneratedDatasetProvider.class));
        SelfGeneratedDatasetProvider p = new SelfGeneratedDatasetProvider();
        assertTrue(p.accepts("self"));
        assertFalse(p.accepts("self.json"));
        assertEquals(DatasetProvider.Match.EXACT, p.match("self"));
    }

    @Test
    void samplesNumSequencesOfSeqlenAtTemperatureOneWithTheRunSeed() {
        Ctx ctx = new Ctx(true);
        DatasetProvider.Loaded loaded = new SelfGeneratedDatasetProvider().open("self", Map.of("num", "4"), ctx);
        assertEquals(List.of("4x6 seed 7 t 1.0"), ctx.calls);
        assertEquals(4, loaded.records().size());
        assertArrayEquals(new long[]{1, 4, 5, 6, 7, 8}, loaded.records().get(0).tokenIds());
        assertTrue(loaded.source().contains("self-generated"));
        assertFalse(loaded.applyChatTemplate());
    }

    @Test
    void defaultsToNsamplesAndNeedsAModel() {
        Ctx ctx = new Ctx(true);
        assertEquals(3, new SelfGeneratedDatasetProvider().load("self", Map.of(), ctx).size());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new SelfGeneratedDatasetProvider().load("self", Map.of(), new Ctx(false)));
        assertTrue(e.getMessage().contains("needs a loaded model"));
    }
}
