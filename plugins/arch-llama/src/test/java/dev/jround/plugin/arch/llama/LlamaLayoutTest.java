package dev.jround.plugin.arch.llama;

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
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The roles and facts the llama plugin declares for its tiny Llama, Mistral, Qwen2 and Qwen3 checkpoints. */
class LlamaLayoutTest {

    static TensorLayout layout(String name) {
        return new LlamaFamilyArchitecture().tensorLayout(ConfigJson.read(GoldenLogits.golden(LlamaLayoutTest.class, name)))
                .orElseThrow();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "qwen3"})
    void everyTensorHasARole(String name) {
        Path dir = GoldenLogits.golden(LlamaLayoutTest.class, name);
        TensorLayout layout = layout(name);
        Set<TensorRole> seen = LayoutAssertions.everyTensorHasARole(dir, layout, (t, s) -> {
            if (t.startsWith("model.layers.")) {
                assertEquals(Integer.parseInt(t.split("\\.")[2]), s.block(), t);
            }
            assertEquals(t.endsWith(".bias") ? TensorSlot.Part.BIAS : TensorSlot.Part.WEIGHT, s.part(), t);
        });
        assertTrue(seen.containsAll(EnumSet.of(TensorRole.TOKEN_EMBD, TensorRole.OUTPUT_NORM, TensorRole.ATTN_NORM,
                TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V, TensorRole.ATTN_OUT, TensorRole.FFN_NORM,
                TensorRole.FFN_GATE, TensorRole.FFN_UP, TensorRole.FFN_DOWN)), name + ": " + seen);
        assertEquals(name.equals("qwen3"), seen.contains(TensorRole.ATTN_Q_NORM) && seen.contains(TensorRole.ATTN_K_NORM));
    }

    @Test
    void namesMapToRoles() {
        TensorLayout l = layout("qwen2");
        assertEquals(TensorSlot.of(TensorRole.ATTN_Q, 1, TensorSlot.Part.BIAS), l.slotOf("model.layers.1.self_attn.q_proj.bias").orElseThrow());
        assertEquals(TensorSlot.of(TensorRole.OUTPUT, -1, TensorSlot.Part.WEIGHT), l.slotOf("lm_head.weight").orElseThrow());
        assertEquals(TensorSlot.of(TensorRole.ATTN_ROT_EMBD, 0, TensorSlot.Part.BUFFER),
                l.slotOf("model.layers.0.self_attn.rotary_emb.inv_freq").orElseThrow());
        assertEquals(TensorRole.FFN_NORM, l.slotOf("model.layers.0.post_attention_layernorm.weight").orElseThrow().role());
        // names that are not this checkpoint's tensors: a block past the last, an unknown module, no parameter
        assertFalse(l.slotOf("model.layers.2.mlp.up_proj.weight").isPresent());
        assertFalse(l.slotOf("model.layers.01.mlp.up_proj.weight").isPresent());
        assertFalse(l.slotOf("model.layers.0.mlp.experts.0.up_proj.weight").isPresent());
        assertFalse(l.slotOf("model.layers").isPresent());
        assertFalse(l.slotOf("lm_head").isPresent());
    }

    @Test
    void factsFollowTheConfig() {
        ArchitectureFacts q2 = layout("qwen2").facts();
        assertEquals(new ArchitectureFacts.LlamaCpp("qwen2", false, false), q2.llamaCpp());
        assertEquals("Qwen2", q2.name());
        assertEquals(2, q2.blockCount());
        assertEquals(64, q2.contextLength());
        assertEquals(32, q2.embeddingLength());
        assertEquals(48, q2.feedForwardLength());
        assertEquals(4, q2.headCount());
        assertEquals(2, q2.headCountKv());
        assertEquals(8, q2.headDim());
        assertFalse(q2.headDimStated());
        assertEquals(96, q2.vocabSize());
        assertEquals(ArchitectureFacts.Norm.RMS, q2.norm());
        assertEquals(1e-6, q2.normEps());
        assertEquals(1e6, q2.ropeFreqBase(), "rope_theta inside rope_parameters");
        assertEquals(8, q2.ropeDimensionCount());
        assertTrue(q2.tiedEmbeddings());
        assertEquals(new ArchitectureFacts.LlamaCpp("qwen3", false, false), layout("qwen3").facts().llamaCpp());
        // llama.cpp runs Mistral in its llama graph: same name, q/k permuted
        assertEquals(new ArchitectureFacts.LlamaCpp("llama", true, true), layout("mistral").facts().llamaCpp());
        assertEquals(new ArchitectureFacts.LlamaCpp("llama", true, true), layout("llama").facts().llamaCpp());
    }
}
