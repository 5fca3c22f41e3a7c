package dev.jround.kernel.calib;

import java.util.ArrayList;
import java.util.List;

/**
 * The order Hugging Face {@code IterableDataset.shuffle(seed, buffer_size)} gives a streamed dataset: the
 * shards are permuted with a fresh {@code default_rng(seed)} and read round-robin (datasets 5: up to 10 groups of
 * consecutive shards, one row from each in turn); then rows flow through a buffer: once it holds
 * {@code buffer_size} rows, each new row replaces a buffered one picked by {@code integers(0, buffer_size)}
 * (drawn in batches of 1000 from a second fresh generator), and at the end the rest of the buffer is
 * shuffled with that same generator.
 */
public final class StreamingShuffle {

    private static final int RANDOM_BATCH = 1000;
    private static final int MAX_INPUT_SHARDS = 10;

    private StreamingShuffle() {
    }

    /**
     * @param shardSizes rows per shard, in the dataset's own shard order
     * @param limit      stop after this many output rows (the reference's {@code take(n)}); rows are only
     *                   read as far as needed, so a prefix of the stream suffices
     * @return output order as indices into the concatenation of the shards in their own order
     */
    public static int[] order(int[] shardSizes, int bufferSize, long seed, int limit) {
        int[] shardOrder = new NumpyPcg64(seed).permutation(shardSizes.length);
        int[] shardStart = new int[shardSizes.length];
        for (int k = 1; k < shardSizes.length; k++) {
            shardStart[k] = shardStart[k - 1] + shardSizes[k - 1];
        }
        // datasets 5 feeds the buffer from up to MAX_INPUT_SHARDS groups of consecutive (permuted) shards at once,
        // one row from each group in turn, skipping exhausted groups
        int groups = Math.min(shardSizes.length, MAX_INPUT_SHARDS);
        List<List<Integer>> groupShards = new ArrayList<>();
        int next = 0;
        for (int g = 0; g < groups; g++) {
            int count = shardSizes.length / groups + (g < shardSizes.length % groups ? 1 : 0);
            List<Integer> members = new ArrayList<>();
            for (int c = 0; c < count; c++) {
                members.add(shardOrder[next++]);
            }
            groupShards.add(members);
        }
        int[] member = new int[groups];
        int[] rowInShard = new int[groups];
        boolean[] exhausted = new boolean[groups];
        int live = groups;
        NumpyPcg64 rng = new NumpyPcg64(seed);
        long[] batch = new long[0];
        int batchPos = 0;
        int[] buffer = new int[bufferSize];
        int filled = 0;
        List<Integer> out = new ArrayList<>();
        while (live > 0 && out.size() < limit) {
            for (int g = 0; g < groups && out.size() < limit; g++) {
                if (exhausted[g]) {
                    continue;
                }
                List<Integer> members = groupShards.get(g);
                while (member[g] < members.size() && rowInShard[g] >= shardSizes[members.get(member[g])]) {
                    member[g]++;
                    rowInShard[g] = 0;
                }
                if (member[g] >= members.size()) {
                    exhausted[g] = true;
                    live--;
                    continue;
                }
                int row = shardStart[members.get(member[g])] + rowInShard[g]++;
                if (filled == bufferSize) {
                    if (batchPos == batch.length) {
                        batch = rng.integers(bufferSize, RANDOM_BATCH);
                        batchPos = 0;
                    }
                    int i = (int) batch[batchPos++];
                    out.add(buffer[i]);
                    buffer[i] = row;
                } else {
                    buffer[filled++] = row;
                }
            }
        }
        if (out.size() < limit) {
            int[] rest = java.util.Arrays.copyOf(buffer, filled);
            rng.shuffle(rest);
            for (int v : rest) {
                if (out.size() >= limit) {
                    break;
                }
                out.add(v);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
