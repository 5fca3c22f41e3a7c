package dev.jround.kernel.config;

import dev.jround.kernel.model.DeviceFlag;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code to_quant_block_names} (docs/algorithms.md) and the one-device rule of {@code --device_map}. */
class ToQuantBlockNamesTest {

    private static LayerConfigResolver.Resolution resolve(FakeModel m, Map<String, ?> cfg, String blocks) {
        return LayerConfigResolver.resolve(m, LayerConfigResolverTest.W4, cfg, "", false, LayerConfigResolverTest.PRESETS, blocks);
    }

    @Test
    void itemsAreRegexesSearchedInBlockNames() {
        FakeModel m = new FakeModel(12, false);
        assertNull(LayerConfigResolver.selectBlocks(m, null));
        assertNull(LayerConfigResolver.selectBlocks(m, " "));
        assertEquals(Set.of(1, 10, 11), LayerConfigResolver.selectBlocks(m, "layers.1"), "substring semantics, as re.search");
        assertEquals(Set.of(1), LayerConfigResolver.selectBlocks(m, "layers\\.1$"));
        assertEquals(Set.of(0, 1, 2, 3, 7), LayerConfigResolver.selectBlocks(m, "layers\\.[0-3]$, layers.7,"));
        assertEquals(12, LayerConfigResolver.selectBlocks(m, "model.layers").size());
    }

    @Test
    void unselectedBlocksAreFullPrecisionWithAReason() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(3, false), Map.of(), "layers\\.1$");
        LayerSpec in = r.layer("model.layers.1.self_attn.q_proj");
        assertTrue(in.quantized());
        assertEquals(QuantScheme.intWeightOnly(4, 128, true), in.scheme());
        for (String name : new String[]{"model.layers.0.self_attn.q_proj", "model.layers.2.self_attn.k_proj"}) {
            LayerSpec out = r.layer(name);
            assertFalse(out.quantized(), name);
            assertEquals(QuantScheme.FULL_PRECISION, out.scheme());
            assertEquals("outside --to_quant_block_names 'layers\\.1$'", out.reason());
            assertEquals(name.contains("layers.0") ? 0 : 2, out.blockIndex(), "the layer stays in its block");
        }
        assertEquals(resolve(new FakeModel(3, false), Map.of(), null), LayerConfigResolver.resolve(new FakeModel(3, false),
                LayerConfigResolverTest.W4, Map.of(), "", false, LayerConfigResolverTest.PRESETS), "unset selects every block");
    }

    @Test
    void aUserEntryInAnUnselectedBlockIsReported() {
        LayerConfigResolver.Resolution r = resolve(new FakeModel(2, false),
                Map.of("model.layers.0.self_attn.q_proj", Map.of("bits", 8)), "layers.1");
        assertFalse(r.layer("model.layers.0.self_attn.q_proj").quantized());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("model.layers.0.self_attn.q_proj") && w.contains("not applied")),
                r.warnings().toString());
    }

    @Test
    void noMatchAndBadRegexesAreRefusedWithTheBlockNames() {
        FakeModel m = new FakeModel(4, false);
        InvalidInputException none = assertThrows(InvalidInputException.class, () -> LayerConfigResolver.selectBlocks(m, "decoder.h"));
        assertTrue(none.getMessage().contains("'decoder.h' matches no block"), none.getMessage());
        assertTrue(none.hint().contains("model.layers.0 ... model.layers.3"), none.hint());
        InvalidInputException bad = assertThrows(InvalidInputException.class, () -> LayerConfigResolver.selectBlocks(m, "layers.[1"));
        assertTrue(bad.getMessage().contains("'layers.[1' is not a valid regular expression"), bad.getMessage());
    }

    @Test
    void deviceMapNamesOneDevice() {
        assertNull(DeviceFlag.backendName(null));
        assertNull(DeviceFlag.backendName("0"));
        assertNull(DeviceFlag.backendName("auto"));
        assertNull(DeviceFlag.backendName("0,0"), "the same device twice is one device");
        assertEquals("cpu", DeviceFlag.backendName(" CPU "));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DeviceFlag.backendName("0,1"));
        assertTrue(e.getMessage().contains("jround runs one job on one device"), e.getMessage());
    }
}
