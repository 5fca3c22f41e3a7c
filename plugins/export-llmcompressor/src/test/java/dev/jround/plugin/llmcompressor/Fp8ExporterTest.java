package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Fp8ExporterTest {

    /** weight * weight_scale_inv[r/32][c/32] gives back the payload's values; the config is the reference's block-FP8 one. */
    @Test
    void writesBlockFp8(@TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, false, n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION : CtCases.FP8_BLOCK, true, 3);
        Random r = new Random(9);
        f.quantized.replaceAll((n, l) -> CtCases.floatLayer(l.spec(), l.bias(), r));
        Path out = f.export(new Fp8Exporter(), tmp.resolve("out"), "fp8", Map.of(), Long.MAX_VALUE);
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : f.quantized.values()) {
                HostTensor w = st.get(l.name() + ".weight");
                HostTensor s = st.get(l.name() + ".weight_scale_inv");
                assertEquals(DType.F8_E4M3, w.dtype());
                assertEquals(DType.F32, s.dtype());
                assertArrayEquals(new long[]{(l.rows() + 31) / 32, (l.cols() + 31) / 32}, s.shape());
                float[] e = w.toFloats();
                float[] sc = s.toFloats();
                float[] dq = new float[e.length];
                for (int i = 0; i < e.length; i++) {
                    int row = i / l.cols();
                    int col = i % l.cols();
                    dq[i] = e[i] * sc[(row / 32) * (int) s.shape()[1] + col / 32];
                }
                assertArrayEquals(l.dequantized(), dq, l.name());
            }
        }
        JsonNode cfg = new ObjectMapper().readTree(Files.readString(out.resolve("config.json")));
        JsonNode qc = cfg.get("quantization_config");
        assertEquals("auto-round", qc.get("quant_method").asText());
        assertEquals("fp8", qc.get("packing_format").asText());
        assertEquals("[32,32]", qc.get("weight_block_size").toString());
        assertEquals("[\"lm_head\"]", qc.get("ignored_layers").toString());
        assertEquals("bfloat16", cfg.get("torch_dtype").asText());
        Path nat = f.export(new Fp8Exporter(), tmp.resolve("native"), "fp8", Map.of("fp8_config", "native"), Long.MAX_VALUE);
        JsonNode n = new ObjectMapper().readTree(Files.readString(nat.resolve("config.json"))).get("quantization_config");
        assertEquals("fp8", n.get("quant_method").asText());
        assertEquals("[\"lm_head\"]", n.get("modules_to_not_convert").toString());
    }

    @Test
    void refusesOtherSchemes() {
        Fp8Exporter e = new Fp8Exporter();
        assertTrue(e.refusal("fp8", new LayerSpec("m.q", 64, 64, CtCases.FPW8A16, 0, false, "t")).orElseThrow().contains("2-D weight blocks"));
        assertTrue(e.refusal("fp8", new LayerSpec("m.q", 64, 64, QuantScheme.intWeightOnly(4, 32, true), 0, false, "t")).orElseThrow()
                .contains("m.q"));
        assertTrue(e.refusal("fp8", new LayerSpec("m.q", 64, 64, CtCases.FP8_BLOCK, 0, false, "t")).isEmpty());
    }
}
