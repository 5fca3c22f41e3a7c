package dev.jround.plugin.gguf;

import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's per-tensor type choice, including the fallbacks for rows of 64 and 172 (aidreams260K). */
class GgufMixTest {

    private static GgmlType type(GgufMix mix, String name, long row, int layer, int nLayer, int nGqa, boolean hasOutput) {
        return mix.typeFor(new GgufMix.TensorRole(name, 2, row, layer, nLayer, nGqa, hasOutput));
    }

    /** Types of one aidreams260K block (4 layers, hidden 64, MLP 172, no GQA, tied embeddings). */
    private static String aidreams(GgufMix mix, int layer) {
        String p = "blk." + layer + ".";
        return type(mix, p + "attn_q.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "attn_k.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "attn_v.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "attn_output.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "ffn_gate.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "ffn_up.weight", 64, layer, 4, 1, false) + " "
                + type(mix, p + "ffn_down.weight", 172, layer, 4, 1, false) + " | "
                + type(mix, "token_embd.weight", 64, -1, 4, 1, false);
    }

    @Test
    void aidreamsShapesFallBackAsLlamaCppDoes() {
        Map<GgufMix, String[]> expected = Map.ofEntries(
                Map.entry(GgufMix.Q4_0, new String[]{"Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q4_1, new String[]{"Q4_1 Q4_1 Q4_1 Q4_1 Q4_1 Q4_1 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q5_0, new String[]{"Q5_0 Q5_0 Q5_0 Q5_0 Q5_0 Q5_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q5_1, new String[]{"Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q8_0, new String[]{"Q8_0 Q8_0 Q8_0 Q8_0 Q8_0 Q8_0 F16 | Q8_0", null}),
                // k-quants cannot hold a row of 64: Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; 172 -> F16
                Map.entry(GgufMix.Q2_K_S, new String[]{"Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q3_K_S, new String[]{"Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 Q4_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q3_K_M, new String[]{"Q4_0 Q4_0 Q5_1 Q5_0 Q4_0 Q4_0 F16 | Q8_0",
                        "Q4_0 Q4_0 Q5_0 Q5_0 Q4_0 Q4_0 F16 | Q8_0"}),
                Map.entry(GgufMix.Q3_K_L, new String[]{"Q4_0 Q4_0 Q5_1 Q5_1 Q4_0 Q4_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q4_K_S, new String[]{"Q5_0 Q5_0 Q5_1 Q5_0 Q5_0 Q5_0 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q4_K_M, new String[]{"Q5_0 Q5_0 Q5_0 Q5_0 Q5_0 Q5_0 F16 | Q8_0",
                        "Q5_0 Q5_0 Q8_0 Q5_0 Q5_0 Q5_0 F16 | Q8_0"}),
                Map.entry(GgufMix.Q5_K_S, new String[]{"Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 F16 | Q8_0", null}),
                Map.entry(GgufMix.Q5_K_M, new String[]{"Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 Q5_1 F16 | Q8_0",
                        "Q5_1 Q5_1 Q8_0 Q5_1 Q5_1 Q5_1 F16 | Q8_0"}),
                Map.entry(GgufMix.Q6_K, new String[]{"Q8_0 Q8_0 Q8_0 Q8_0 Q8_0 Q8_0 F16 | Q8_0", null}));
        assertEquals(GgufMix.values().length, expected.size());
        for (GgufMix mix : GgufMix.values()) {
            String[] e = expected.get(mix);
            // layers 0,1 and 2,3 differ only in the attn_v rules of q3_k_m (i < 2) and q4/5_k_m (use_more_bits: 2, 3)
            assertEquals(e[0], aidreams(mix, 0), mix + " layer 0");
            assertEquals(e[0], aidreams(mix, 1), mix + " layer 1");
            assertEquals(e[1] == null ? e[0] : e[1], aidreams(mix, 2), mix + " layer 2");
            assertEquals(e[1] == null ? e[0] : e[1], aidreams(mix, 3), mix + " layer 3");
        }
    }

    @Test
    void normsAndVectorsStayF32() {
        for (GgufMix mix : GgufMix.values()) {
            assertEquals(GgmlType.F32, mix.typeFor(new GgufMix.TensorRole("blk.0.attn_norm.weight", 1, 64, 0, 4, 1, false)));
            assertEquals(GgmlType.F32, mix.typeFor(new GgufMix.TensorRole("blk.0.attn_q.bias", 1, 64, 0, 4, 1, false)));
            assertEquals(GgmlType.F32, mix.typeFor(new GgufMix.TensorRole("output_norm.weight", 1, 64, -1, 4, 1, false)));
            assertEquals(GgmlType.F32, mix.typeFor(new GgufMix.TensorRole("blk.3.attn_k_norm.weight", 1, 128, 3, 4, 1, false)));
        }
    }

    private static Set<Integer> layersWith(GgufMix mix, String role, GgmlType t, int nLayer, int nGqa) {
        Set<Integer> s = new TreeSet<>();
        for (int i = 0; i < nLayer; i++) {
            if (type(mix, "blk." + i + "." + role, 4096, i, nLayer, nGqa, true) == t) s.add(i);
        }
        return s;
    }

    @Test
    void q4KmUpgradesTheSpecsLayersOnFullWidthRows() {
        Set<Integer> l32 = Set.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31);
        assertEquals(new TreeSet<>(l32), layersWith(GgufMix.Q4_K_M, "attn_v.weight", GgmlType.Q6_K, 32, 4));
        assertEquals(new TreeSet<>(l32), layersWith(GgufMix.Q4_K_M, "ffn_down.weight", GgmlType.Q6_K, 32, 4));
        Set<Integer> l28 = Set.of(0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27);
        assertEquals(new TreeSet<>(l28), layersWith(GgufMix.Q5_K_M, "ffn_down.weight", GgmlType.Q6_K, 28, 2));
        assertEquals(32 - 16, layersWith(GgufMix.Q4_K_M, "attn_v.weight", GgmlType.Q4_K, 32, 4).size());
        assertEquals(GgmlType.Q4_K, type(GgufMix.Q4_K_M, "blk.4.attn_q.weight", 4096, 4, 32, 4, true));
        assertEquals(GgmlType.Q6_K, type(GgufMix.Q4_K_M, "output.weight", 4096, -1, 32, 4, true));
        assertEquals(GgmlType.Q4_K, type(GgufMix.Q4_K_M, "token_embd.weight", 4096, -1, 32, 4, true));
        assertEquals(GgmlType.Q6_K, type(GgufMix.Q4_K_M, "token_embd.weight", 4096, -1, 32, 4, false));
        assertEquals(GgmlType.Q8_0, type(GgufMix.Q8_0, "output.weight", 4096, -1, 32, 4, true));
    }

    @Test
    void otherKMixturesFollowTheirRules() {
        assertEquals(Set.of(0, 1), layersWith(GgufMix.Q3_K_M, "attn_v.weight", GgmlType.Q5_K, 32, 4));
        assertEquals(Set.of(0, 1), layersWith(GgufMix.Q3_K_M, "ffn_down.weight", GgmlType.Q5_K, 32, 4));
        assertEquals(30, layersWith(GgufMix.Q3_K_M, "ffn_down.weight", GgmlType.Q4_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q3_K_M, "attn_output.weight", GgmlType.Q4_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q3_K_L, "attn_output.weight", GgmlType.Q5_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q3_K_S, "attn_output.weight", GgmlType.Q3_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q2_K_S, "attn_v.weight", GgmlType.Q4_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q2_K_S, "attn_v.weight", GgmlType.Q2_K, 32, 2).size());
        assertEquals(Set.of(0, 1, 2, 3), layersWith(GgufMix.Q2_K_S, "ffn_down.weight", GgmlType.Q4_K, 32, 4));
        assertEquals(Set.of(0, 1, 2, 3), layersWith(GgufMix.Q4_K_S, "attn_v.weight", GgmlType.Q5_K, 32, 4));
        assertEquals(Set.of(0, 1, 2, 3), layersWith(GgufMix.Q4_K_S, "ffn_down.weight", GgmlType.Q5_K, 32, 4));
        assertEquals(32, layersWith(GgufMix.Q6_K, "ffn_down.weight", GgmlType.Q6_K, 32, 4).size());
        assertEquals(32, layersWith(GgufMix.Q5_K_S, "attn_v.weight", GgmlType.Q5_K, 32, 4).size());
        // 80-layer (70B) models lift attn_v from Q3_K/Q4_K to Q5_K
        assertEquals(80, layersWith(GgufMix.Q3_K_M, "attn_v.weight", GgmlType.Q5_K, 80, 8).size());
    }

    @Test
    void fileTypesAndFormats() {
        assertEquals(15, GgufMix.Q4_K_M.fileType());
        assertEquals(21, GgufMix.Q2_K_S.fileType());
        assertEquals(7, GgufMix.Q8_0.fileType());
        assertEquals(GgufMix.Q3_K_L, GgufMix.fromFormat("GGUF:Q3_K_L").orElseThrow());
        assertTrue(GgufMix.fromFormat("gguf:q2_k").isEmpty());
        assertEquals(14, GgufMix.formats().size());
    }

    @Test
    void fallbackTable() {
        assertEquals(GgmlType.Q4_0, GgufMix.fallback(GgmlType.Q2_K, 64));
        assertEquals(GgmlType.Q4_0, GgufMix.fallback(GgmlType.Q3_K, 96));
        assertEquals(GgmlType.Q5_0, GgufMix.fallback(GgmlType.Q4_K, 64));
        assertEquals(GgmlType.Q5_1, GgufMix.fallback(GgmlType.Q5_K, 64));
        assertEquals(GgmlType.Q8_0, GgufMix.fallback(GgmlType.Q6_K, 64));
        assertEquals(GgmlType.F16, GgufMix.fallback(GgmlType.Q6_K, 172));
        assertEquals(GgmlType.F16, GgufMix.fallback(GgmlType.Q4_0, 172));
        assertEquals(GgmlType.Q4_K, GgufMix.fallback(GgmlType.Q4_K, 512));
    }

    @Test
    void llamaQkPermutationOfTheSpec() {
        float[] w = {0, 1, 2, 3};
        assertEquals("[0.0, 2.0, 1.0, 3.0]", java.util.Arrays.toString(GgufNames.permuteForLlama(w, 4, 1, 1)));
        float[] two = new float[16];
        for (int i = 0; i < 16; i++) two[i] = i;
        float[] p = GgufNames.permuteForLlama(two, 8, 2, 2);
        assertEquals("[0.0, 1.0, 4.0, 5.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 12.0, 13.0, 10.0, 11.0, 14.0, 15.0]",
                java.util.Arrays.toString(p));
        assertEquals(java.util.Arrays.toString(two), java.util.Arrays.toString(GgufNames.unpermuteForLlama(p, 8, 2, 2)));
    }

    @Test
    void names() {
        assertEquals("blk.3.attn_output.weight", GgufNames.of(slot(TensorRole.ATTN_OUT, 3, TensorSlot.Part.WEIGHT)).orElseThrow());
        assertEquals("blk.0.attn_k_norm.weight", GgufNames.of(slot(TensorRole.ATTN_K_NORM, 0, TensorSlot.Part.WEIGHT)).orElseThrow());
        assertEquals("blk.1.attn_q.bias", GgufNames.of(slot(TensorRole.ATTN_Q, 1, TensorSlot.Part.BIAS)).orElseThrow());
        assertEquals("position_embd.weight", GgufNames.of(slot(TensorRole.POS_EMBD, -1, TensorSlot.Part.WEIGHT)).orElseThrow());
        assertEquals("output.weight", GgufNames.of(slot(TensorRole.OUTPUT, -1, TensorSlot.Part.WEIGHT)).orElseThrow());
        assertEquals("model.layers.12.mlp.down_proj.weight", GgufNames.toHf("blk.12.ffn_down.weight"));
        assertEquals("lm_head.weight", GgufNames.toHf("output.weight"));
        // derived tables are left out; roles llama.cpp does not store and single experts have no name
        assertTrue(GgufNames.derived(TensorRole.ATTN_ROT_EMBD));
        assertTrue(GgufNames.of(slot(TensorRole.PROJECT_IN, -1, TensorSlot.Part.WEIGHT)).isEmpty());
        assertTrue(GgufNames.of(new TensorSlot(TensorRole.FFN_UP_EXP, 0, 3, TensorSlot.Part.WEIGHT)).isEmpty());
        assertEquals("231K", GgufModelMetadata.sizeLabel(230976));
        assertEquals("8.0B", GgufModelMetadata.sizeLabel(8_030_261_248L));
        assertEquals("596M", GgufModelMetadata.sizeLabel(596_049_920L));
    }

    private static TensorSlot slot(TensorRole role, int block, TensorSlot.Part part) {
        return TensorSlot.of(role, block, part);
    }
}
