package dev.jround.kernel.registry;

import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DuplicateResolverTest {

    @Test
    void highestVersionWinsWhateverTheDiscoveryOrder() {
        List<SchemePreset> plugins = new ArrayList<>(List.of(new TestPresets.Alpha100(), new TestPresets.Alpha120(),
                new TestPresets.Alpha110(), new TestPresets.Beta()));
        Random random = new Random(7);
        for (int round = 0; round < 10; round++) {
            Collections.shuffle(plugins, random);
            List<SchemePreset> chosen = DuplicateResolver.resolve(plugins, Map.of());
            assertEquals(List.of("Alpha 1.2.0", "beta 0.3.0"),
                    chosen.stream().map(p -> p.descriptor().id() + " " + p.descriptor().version()).toList());
        }
    }

    @Test
    void pinSelectsAnOlderVersionAndAnUnknownPinFallsBackToTheHighest() {
        List<SchemePreset> plugins = List.of(new TestPresets.Alpha100(), new TestPresets.Alpha120());
        assertEquals("1.0.0", DuplicateResolver.resolve(plugins, Map.of("alpha", "1.0.0")).get(0).descriptor().version());
        assertEquals("1.2.0", DuplicateResolver.resolve(plugins, Map.of("alpha", "9.9.9")).get(0).descriptor().version());
    }

    @Test
    void equalVersionsKeepDiscoveryOrder() {
        SchemePreset first = new TestPresets.Alpha100();
        SchemePreset second = new TestPresets.Alpha100();
        assertSame(first, DuplicateResolver.resolve(List.of(first, second), Map.of()).get(0));
        assertSame(second, DuplicateResolver.resolve(List.of(second, first), Map.of()).get(0));
    }

    @Test
    void systemPinsAreReadFromJroundPinProperties() {
        System.setProperty("jround.pin.Auto_GPTQ", "2.0.0");
        try {
            assertEquals("2.0.0", DuplicateResolver.systemPins().get("auto_gptq"));
        } finally {
            System.clearProperty("jround.pin.Auto_GPTQ");
        }
        assertTrue(DuplicateResolver.systemPins().keySet().stream().noneMatch(k -> k.equals("auto_gptq")));
    }
}
