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
    void mersenneTwisterFirstOutputsForSeed42() {
        // random.Random(42).getrandbits(32) three times
        PythonRandom r = new PythonRandom(42);
        assertEquals(2746317213L, r.nextUint32());
        assertEquals(478163327L, r.nextUint32());
        assertEquals(107420369L, r.nextUint32());
    }
}
