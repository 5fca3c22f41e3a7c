package dev.jround.spi.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The slot invariants and the module-path builder. */
class TensorLayoutTest {

    static final ArchitectureFacts FACTS = new ArchitectureFacts("Test", null, 2, 64, 8, 16, 2, 2, 4, false, 32,
            ArchitectureFacts.Norm.RMS, 1e-6, Double.NaN, 0, false);

    @Test
    void slotsKeepBlockAndExpertIndicesConsistentWithTheRole() {
        assertThrows(IllegalArgumentException.class, () -> TensorSlot.of(TensorRole.ATTN_Q, -1, TensorSlot.Part.WEIGHT));
        assertThrows(IllegalArgumentException.class, () -> TensorSlot.of(TensorRole.OUTPUT, 0, TensorSlot.Part.WEIGHT));
        assertThrows(IllegalArgumentException.class, () -> TensorSlot.of(TensorRole.FFN_UP_EXP, 0, TensorSlot.Part.WEIGHT));
        assertEquals(3, new TensorSlot(TensorRole.FFN_UP_EXP, 0, 3, TensorSlot.Part.WEIGHT).expert());
    }

    @Test
    void builderMatchesModulesAndBlocks() {
        TensorLayout l = TensorLayout.builder(FACTS).model("emb", TensorRole.TOKEN_EMBD).blocks("h")
                .block("attn.q", TensorRole.ATTN_Q).build();
        assertEquals(TensorSlot.of(TensorRole.TOKEN_EMBD, -1, TensorSlot.Part.WEIGHT), l.slotOf("emb.weight").orElseThrow());
        assertEquals(TensorSlot.of(TensorRole.ATTN_Q, 1, TensorSlot.Part.BIAS), l.slotOf("h.1.attn.q.bias").orElseThrow());
        assertEquals(TensorSlot.Part.BUFFER, l.slotOf("h.0.attn.q.scale").orElseThrow().part());
        assertTrue(l.slotOf("h.2.attn.q.weight").isEmpty(), "past the last block");
        assertTrue(l.slotOf("h.x.attn.q.weight").isEmpty());
        assertTrue(l.slotOf("h.0.attn.k.weight").isEmpty());
        assertTrue(l.slotOf("weight").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> TensorLayout.builder(FACTS).model("x", TensorRole.ATTN_Q));
        assertThrows(IllegalArgumentException.class, () -> TensorLayout.builder(FACTS).block("x", TensorRole.OUTPUT));
    }
}
