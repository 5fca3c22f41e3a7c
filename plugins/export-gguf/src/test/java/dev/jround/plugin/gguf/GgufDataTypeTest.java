package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.GgmlBlocks;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GGUF data type and presets: pipeline layers carry their blocks, and the exporter writes them unchanged. */
class GgufDataTypeTest {

    @TempDir
    Path tmp;

    @Test
    void presetsMapToTheDataTypes() {
        Map<String, QuantScheme> p = new GgufSchemePresets().presets();
        assertEquals(14, p.size());
        GgufDataType dt = new GgufDataType();
        assertEquals(GgmlType.Q4_K, GgufDataType.typeOf(p.get("GGUF:Q4_K_M")));
        assertEquals(GgmlType.Q2_K, GgufDataType.typeOf(p.get("GGUF:Q2_K_S")));
        assertEquals(GgmlType.Q3_K, GgufDataType.typeOf(p.get("GGUF:Q3_K_L")));
        assertEquals(GgmlType.Q6_K, GgufDataType.typeOf(p.get("GGUF:Q6_K")));
        assertEquals(GgmlType.Q5_1, GgufDataType.typeOf(p.get("GGUF:Q5_1")));
        assertTrue(dt.supports(p.get("GGUF:Q5_K_S")));
        assertFalse(dt.supports(p.get("GGUF:Q4_0")), "Q4_0 is plain symmetric int, the int data type's");
        assertEquals("fp32", p.get("GGUF:Q4_K_M").scaleDtype());
    }

    @Test
    void quantizedLayersCarryExactBlocksThatTheExporterWritesPermuted() throws Exception {
        Path model = SyntheticModelsTest.makeModel(tmp.resolve("TinyLlama"), "llama", true, false, "sentencepiece", "");
        GgufDataType dt = new GgufDataType();
        QuantScheme q4k = new GgufSchemePresets().presets().get("GGUF:Q4_K_M");
        float[] imatrix = new float[SyntheticModelsTest.HIDDEN];
        for (int i = 0; i < imatrix.length; i++) imatrix[i] = 1 + i % 5;
        Path out = tmp.resolve("out");
        QuantizedLayer q;
        QuantizedLayer gate;
        QuantizedLayer vProj;
        byte[] vExpected;
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            q = dt.quantize(new LayerSpec("model.layers.0.self_attn.q_proj", 256, 256, q4k, 0, false, "t"),
                    src.floats("model.layers.0.self_attn.q_proj.weight"), null, null, null, null, imatrix, true);
            gate = dt.quantize(new LayerSpec("model.layers.1.mlp.gate_proj", 256, 512, q4k, 1, false, "t"),
                    src.floats("model.layers.1.mlp.gate_proj.weight"), null, null, null, null, null, false);
            assertEquals("Q4_K", ((GgmlBlocks) q.payload()).type());
            assertTrue(RoundTripTest.relError(src.floats("model.layers.0.self_attn.q_proj.weight"), q.dequantized()) < 0.12);
            ExportContext ctx = ExportContext.builder().format("gguf:q4_k_m").outputDir(out).config(ConfigJson.read(model))
                    .sourceDir(model).source(src).blockPrefixes(List.of("model.layers"))
                    .layout(Layouts.of(ConfigJson.read(model))).build();
            // attn_v of layer 1 gets Q6_K under q4_k_m (use_more_bits): a Q4_K layer is re-encoded from the source
            vProj = dt.quantize(new LayerSpec("model.layers.1.self_attn.v_proj", 256, 128, q4k, 1, false, "t"),
                    src.floats("model.layers.1.self_attn.v_proj.weight"), null, null, null, null, imatrix, true);
            vExpected = AutoRoundGgufRtn.quantize(GgmlType.Q6_K, src.floats("model.layers.1.self_attn.v_proj.weight"), 128, 256, null);
            try (ExportSession s = new GgufExporter().open(ctx)) {
                s.addQuantized(q);
                s.addQuantized(gate);
                s.addQuantized(vProj);
                s.finish();
            }
        }
        Path file;
        try (var f = Files.list(out)) {
            file = f.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
        }
        try (GgufFile g = GgufFile.open(file)) {
            byte[] blocks = ((GgmlBlocks) q.payload()).blocks();
            int rowBytes = (int) GgmlType.Q4_K.bytesFor(256);
            assertEquals(java.util.Arrays.toString(GgufNames.permuteRowsForLlama(blocks, 256, rowBytes, 4)),
                    java.util.Arrays.toString(g.rawBytes(g.tensor("blk.0.attn_q.weight"))));
            org.junit.jupiter.api.Assertions.assertArrayEquals(((GgmlBlocks) gate.payload()).blocks(),
                    g.rawBytes(g.tensor("blk.1.ffn_gate.weight")));
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.attn_v.weight").type());
            org.junit.jupiter.api.Assertions.assertArrayEquals(vExpected, g.rawBytes(g.tensor("blk.1.attn_v.weight")));
        }
        try (var ck = new GgufInferenceBackend().load(file)) {
            CodecFixtureTest.assertBitsEqual(q.dequantized(), ck.weights().floats("model.layers.0.self_attn.q_proj"
                    + ".weight"), "q_proj back in HF order");
        }
    }

    @Test
    void qdqIsTheBlocksDecodingAndNarrowRowsFallBack() {
        GgufDataType dt = new GgufDataType();
        QuantScheme q6 = new GgufSchemePresets().presets().get("GGUF:Q6_K");
        float[] w = RoundTripTest.gaussian(4 * 256, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(w, new Shape(4, 256));
            float[] got = dt.qdq(x, q6, null).toFloatArray();
            QuantizedLayer l = dt.quantize(new LayerSpec("a", 256, 4, q6, 0, false, "t"), w, null, null, null, null, null, true);
            CodecFixtureTest.assertBitsEqual(l.dequantized(), got, "qdq");
        }
        float[] narrow = RoundTripTest.gaussian(2 * 64, 4);
        QuantizedLayer l = dt.quantize(new LayerSpec("b", 64, 2, q6, 0, false, "t"), narrow, null, null, null, null, null, true);
        assertEquals("Q8_0", ((GgmlBlocks) l.payload()).type());
        QuantizedLayer f = dt.quantize(new LayerSpec("c", 172, 2, q6, 0, false, "t"), RoundTripTest.gaussian(344, 5),
                null, null, null, null, null, true);
        assertEquals("F16", ((GgmlBlocks) f.payload()).type());
    }
}
