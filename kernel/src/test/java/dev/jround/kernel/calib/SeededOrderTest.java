package dev.jround.kernel.calib;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Python's random.shuffle and NumPy's default_rng permutation, against orders recorded from Python. */
class SeededOrderTest {

    @Test
    void pythonShuffleAndNumpyPermutationMatchRecordedOrders() {
        JsonNode shuffles = ReferenceFixture.load().get("shuffles");
        int checked = 0;
        for (JsonNode c : shuffles) {
            long seed = c.get("seed").asLong();
            int n = c.get("n").asInt();
            assertArrayEquals(ReferenceFixture.ints(c.get("python")), PythonRandom.shuffleOrder(n, seed),
                    "python shuffle seed " + seed + " n " + n);
            assertArrayEquals(ReferenceFixture.ints(c.get("numpy")), NumpyPcg64.permutation(n, seed),
                    "numpy permutation seed " + seed + " n " + n);
            checked++;
        }
        assertEquals(25, checked);
    }

    @Test
    void streamingShuffleMatchesIterableDatasetShuffle() throws Exception {
        JsonNode f;
        try (var in = SeededOrderTest.class.getResourceAsStream("/calib/streaming-shuffle.json")) {
            f = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
        }
        int bufferSize = f.get("buffer_size").asInt();
        for (JsonNode c : f.get("cases")) {
            int n = c.get("n").asInt();
            int shards = c.get("shards").asInt();
            // datasets splits n rows into contiguous shards, the first n % shards one row longer
            int[] sizes = new int[shards];
            for (int k = 0; k < shards; k++) {
                sizes[k] = n / shards + (k < n % shards ? 1 : 0);
            }
            int[] expected = ReferenceFixture.ints(c.get("order"));
            String what = "n " + n + " shards " + shards + " seed " + c.get("seed").asLong();
            assertArrayEquals(expected, StreamingShuffle.order(sizes, bufferSize, c.get("seed").asLong(), Integer.MAX_VALUE), what);
            int[] prefix = StreamingShuffle.order(sizes, bufferSize, c.get("seed").asLong(), 100);
            assertArrayEquals(java.util.Arrays.copyOf(expected, Math.min(100, n)), prefix, what + " take(100)");
        }
    }

    @Test
    void mersenneTwisterFirstOutputsForSeed42() {
        // random.Random(42).getrandbits(32) three times
        PythonRandom r = new PythonRandom(42);
        assertEquals(2746317213L, r.nextUint32());
        assertEquals(478163327L, r.nextUint32());
        assertEquals(107420369L, r.nextUint32());
    }
}
