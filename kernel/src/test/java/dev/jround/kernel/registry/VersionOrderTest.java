package dev.jround.kernel.registry;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VersionOrderTest {

    static int cmp(String a, String b) {
        return VersionOrder.INSTANCE.compare(a, b);
    }

    @Test
    void numericPartsCompareAsNumbers() {
        assertTrue(cmp("1.10.0", "1.9.2") > 0);
        assertTrue(cmp("2.0.0", "10.0.0") < 0);
        assertTrue(cmp("0.1.12", "0.1.3") > 0);
        assertEquals(0, cmp("1.2.3", "1.2.3"));
    }

    @Test
    void aReleaseBeatsItsPreReleaseAndAPatchBeatsTheShortForm() {
        assertTrue(cmp("1.0.0", "1.0.0-SNAPSHOT") > 0);
        assertTrue(cmp("2.0.0-rc1", "2.0.0") < 0);
        assertTrue(cmp("2.0.0-rc1", "1.9.9") > 0);
        assertTrue(cmp("1.0.1", "1.0") > 0);
    }

    @Test
    void orderIsAntisymmetricAndSortingIsStable() {
        List<String> expected = List.of("0.9", "1.0.0-alpha", "1.0.0-beta", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0");
        for (String a : expected) {
            for (String b : expected) {
                assertEquals(Integer.signum(cmp(a, b)), -Integer.signum(cmp(b, a)), a + " vs " + b);
            }
        }
        List<String> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new Random(3));
        shuffled.sort(VersionOrder.INSTANCE);
        assertEquals(expected, shuffled);
    }
}
