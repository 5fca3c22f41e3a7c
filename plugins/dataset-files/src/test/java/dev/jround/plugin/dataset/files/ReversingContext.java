package dev.jround.plugin.dataset.files;

import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A dataset context for the providers' tests: no tokenizer and no model, seed 42, seqlen 8. Every seeded order it is
 * asked for reverses the rows (for a stream: the shards' rows laid end to end) instead of shuffling them, so a test
 * sees that the provider applied the context's order; {@link #calls} records which order was asked for, and
 * {@link #seenSeed} the seed of the last request.
 */
public final class ReversingContext implements DatasetContext {

    public final List<String> calls = new ArrayList<>();
    /** Lines the provider reported through {@link #info}. */
    public final List<String> infos = new ArrayList<>();
    public long seenSeed = -1;
    private final List<Path> roots;
    private final boolean online;

    /** No cache roots, offline. */
    public ReversingContext() {
        this(List.of(), false);
    }

    public ReversingContext(List<Path> roots, boolean online) {
        this.roots = roots;
        this.online = online;
    }

    @Override
    public Tokenizer tokenizer() {
        return null;
    }

    @Override
    public long seed() {
        return 42;
    }

    @Override
    public int seqlen() {
        return 8;
    }

    @Override
    public List<Path> cacheRoots() {
        return roots;
    }

    @Override
    public boolean online() {
        return online;
    }

    @Override
    public void info(String line) {
        infos.add(line);
    }

    @Override
    public Optional<TextSampler> sampler() {
        return Optional.empty();
    }

    @Override
    public int[] pythonShuffleOrder(int n, long seed) {
        calls.add("python:" + n);
        seenSeed = seed;
        return reversed(n);
    }

    @Override
    public int[] numpyPermutation(int n, long seed) {
        calls.add("numpy:" + n);
        seenSeed = seed;
        return reversed(n);
    }

    @Override
    public int[] streamingShuffleOrder(int[] shardSizes, int bufferSize, long seed, int limit) {
        calls.add("stream:" + Arrays.toString(shardSizes) + " buffer " + bufferSize + " take " + limit);
        seenSeed = seed;
        int n = Arrays.stream(shardSizes).sum();
        return Arrays.copyOf(reversed(n), Math.min(n, limit));
    }

    private static int[] reversed(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = n - 1 - i;
        }
        return order;
    }
}
