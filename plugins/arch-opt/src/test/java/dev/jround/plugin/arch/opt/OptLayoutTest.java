package dev.jround.plugin.arch.opt;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;
import dev.jround.lib.model.testing.GoldenLogits;
import dev.jround.lib.model.testing.LayoutAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The roles and facts the opt plugin declares for its tiny checkpoints (with and without project_in/out). */
class OptLayoutTest {

    static TensorLayout layout(String name) {
        return new OptArchitecture().tensorLayout(ConfigJson.read(GoldenLogits.golden(OptLayoutTest.class, name))).orElseThrow();
    }

    @ParameterizedTest
    @ValueSource(strings = {"opt", "opt-proj"})
    void everyTensorHasARole(String name) {
        Path dir = GoldenLogits.golden(OptLayoutTest.class, name);
        TensorLayout layout = layout(name);
        // the bare OPTModel's names (without "model.") mean the same
        Set<TensorRole> seen = LayoutAssertions.everyTensorHasARole(dir, layout,
                (t, s) -> assertEquals(Optional.of(s), layout.slotOf(t.substring("model.".length())), t));
        assertTrue(seen.containsAll(EnumSet.of(TensorRole.TOKEN_EMBD, TensorRole.POS_EMBD, TensorRole.ATTN_NORM,
                TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V, TensorRole.ATTN_OUT, TensorRole.FFN_NORM,
                TensorRole.FFN_UP, TensorRole.FFN_DOWN)), name + ": " + seen);
        assertEquals(name.equals("opt-proj"), seen.contains(TensorRole.PROJECT_IN) && seen.contains(TensorRole.PROJECT_OUT));
    }

    @Test
    void layerNormsWithBiasAndOptsOwnNames() {
        TensorLayout l = layout("opt");
        assertEquals(TensorSlot.of(TensorRole.ATTN_NORM, 1, TensorSlot.Part.BIAS),
                l.slotOf("model.decoder.layers.1.self_attn_layer_norm.bias").orElseThrow());
        // final_layer_norm inside a block is the norm before the MLP; at model level it is the output norm
        assertEquals(TensorRole.FFN_NORM, l.slotOf("model.decoder.layers.0.final_layer_norm.weight").orElseThrow().role());
        assertEquals(TensorRole.OUTPUT_NORM, l.slotOf("model.decoder.final_layer_norm.weight").orElseThrow().role());
        assertEquals(TensorRole.FFN_UP, l.slotOf("model.decoder.layers.0.fc1.weight").orElseThrow().role());
        assertEquals(TensorRole.FFN_DOWN, l.slotOf("model.decoder.layers.0.fc2.bias").orElseThrow().role());
        assertEquals(TensorRole.ATTN_OUT, l.slotOf("model.decoder.layers.0.self_attn.out_proj.weight").orElseThrow().role());
        assertEquals(TensorRole.OUTPUT, l.slotOf("lm_head.weight").orElseThrow().role());
        assertFalse(l.slotOf("model.layers.0.mlp.up_proj.weight").isPresent());
    }

    @Test
    void llamaCppHasNoOpt() {
        ArchitectureFacts f = layout("opt").facts();
        assertNull(f.llamaCpp());
        assertEquals("OPT", f.name());
        assertEquals(ArchitectureFacts.Norm.LAYER, f.norm());
        assertEquals(0, f.ropeDimensionCount());
        assertTrue(Double.isNaN(f.ropeFreqBase()));
        assertEquals(f.headCount(), f.headCountKv());
    }
}
