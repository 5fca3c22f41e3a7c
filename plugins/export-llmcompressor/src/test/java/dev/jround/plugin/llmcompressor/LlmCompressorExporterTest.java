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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlmCompressorExporterTest {

    static List<String> cases() {
        return CtCases.NAMES;
    }

    @Test
    void foundByServiceLoader() {
        assertTrue(ServiceLoader.load(dev.jround.spi.export.Exporter.class).stream()
                .anyMatch(p -> p.type() == LlmCompressorExporter.class));
        assertTrue(ServiceLoader.load(dev.jround.spi.inference.InferenceBackend.class).stream()
                .anyMatch(p -> p.type() == CompressedTensorsBackend.class));
    }

    /** The format's worked example: signed 4-bit codes [-8,-1,0,1,2,3,7,-3] are stored +8 in one little-endian word. */
    @Test
    void packsTheWorkedExample() {
        int[] stored = {0, 7, 8, 9, 10, 11, 15, 5};
        assertArrayEquals(new int[]{0x5FBA9870}, CtPacking.packRows(stored, 1, 8, 4));
        assertArrayEquals(stored, CtPacking.unpackRows(new int[]{0x5FBA9870}, 1, 8, 4));
    }

    /** Runs that do not fill whole words (3 bits, odd lengths) are zero-padded, and come back, along rows and columns. */
    @Test
    void packsPartialWordsBothWays() {
        Random r = new Random(7);
        for (int bits : new int[]{2, 3, 4, 8}) {
            for (int n : new int[]{1, 5, 11, 33, 70}) {
                int rows = 3;
                int[] v = new int[rows * n];
                for (int i = 0; i < v.length; i++) {
                    v[i] = r.nextInt(1 << bits);
                }
                int[] p = CtPacking.packRows(v, rows, n, bits);
                assertEquals(rows * ((n * bits + 31) / 32), p.length);
                assertArrayEquals(v, CtPacking.unpackRows(p, rows, n, bits));
                int[] c = CtPacking.packColumns(v, rows, n, bits);
                assertEquals(((rows * bits + 31) / 32) * n, c.length);
                assertArrayEquals(v, CtPacking.unpackColumns(c, rows, n, bits));
                // independent bit-by-bit reading of the first row
                for (int j = 0; j < n; j++) {
                    int x = 0;
                    for (int b = 0; b < bits; b++) {
                        long bit = (long) j * bits + b;
                        x |= ((p[(int) (bit / 32)] >>> (bit % 32)) & 1) << b;
                    }
                    assertEquals(v[j], x);
                }
            }
        }
    }

    /** Every tensor decodes, by a reading written from docs/formats.md, to the quantizer's codes and weights exactly. */
    @ParameterizedTest
    @MethodSource("cases")
    void decodesToTheQuantizersWeights(String name, @TempDir Path tmp) throws Exception {
        ExportFixture f = CtCases.fixture(tmp, name);
        Path out = CtCases.export(f, tmp.resolve("out"));
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : f.quantized.values()) {
                if (l.payload() instanceof FloatElements) {
                    assertArrayEquals(l.dequantized(), decodeFloat(st, l), l.name());
                    continue;
                }
                QuantScheme s = l.spec().scheme();
                int rows = l.rows();
                int cols = l.cols();
                int ng = l.groupsPerRow();
                int half = 1 << (s.bits() - 1);
                int[] codes = new int[rows * cols];
                if (s.actBits() < 16) {
                    HostTensor w = st.get(l.name() + ".weight");
                    assertEquals(DType.I8, w.dtype());
                    int[] signed = w.toInts();
                    for (int i = 0; i < codes.length; i++) {
                        codes[i] = signed[i] + half;
                    }
                    assertFalse(st.contains(l.name() + ".weight_packed"));
                } else {
                    HostTensor p = st.get(l.name() + ".weight_packed");
                    assertEquals(DType.I32, p.dtype());
                    int words = (cols * s.bits() + 31) / 32;
                    assertArrayEquals(new long[]{rows, words}, p.shape());
                    int[] pw = p.toInts();
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            long bit = (long) c * s.bits();
                            long word = ((long) pw[r * words + (int) (bit / 32)] & 0xFFFFFFFFL)
                                    | (bit / 32 + 1 < words ? ((long) pw[r * words + (int) (bit / 32) + 1] << 32) : 0);
                            codes[r * cols + c] = (int) ((word >>> (bit % 32)) & ((1 << s.bits()) - 1));
                        }
                    }
                    assertArrayEquals(new int[]{rows, cols}, st.get(l.name() + ".weight_shape").toInts());
                    assertEquals(DType.I64, st.get(l.name() + ".weight_shape").dtype());
                }
                assertArrayEquals(l.grid().codes(), codes, l.name());
                HostTensor scale = st.get(l.name() + ".weight_scale");
                assertArrayEquals(new long[]{rows, ng}, scale.shape());
                assertEquals(DType.F32, scale.dtype(), "float32 model: scales in float32");
                assertArrayEquals(l.grid().scales(), scale.toFloats());
                assertEquals(!s.sym(), st.contains(l.name() + ".weight_zero_point"), l.name());
                if (!s.sym()) {
                    HostTensor z = st.get(l.name() + ".weight_zero_point");
                    assertArrayEquals(new long[]{(rows * s.bits() + 31) / 32, ng}, z.shape());
                    assertArrayEquals(l.grid().zeros(), CtPacking.unpackColumns(z.toInts(), rows, ng, s.bits()));
                }
                assertFalse(st.contains(l.name() + ".weight") && s.actBits() >= 16, l.name() + ".weight must be replaced");
            }
        }
        // jround's reader gives back the quantizer's records
        try (CompressedTensorsCheckpoint c = CompressedTensorsCheckpoint.open(out)) {
            assertEquals(f.quantized.keySet(), new java.util.HashSet<>(c.compressedModules()));
            for (QuantizedLayer l : f.quantized.values()) {
                QuantizedLayer back = c.layer(l.name(), l.spec().blockIndex());
                if (l.payload() instanceof FloatElements fe) {
                    FloatElements b = (FloatElements) back.payload();
                    assertArrayEquals(fe.elements(), b.elements(), l.name());
                    assertArrayEquals(fe.scales(), b.scales(), l.name());
                    assertEquals(fe.globalScale(), b.globalScale());
                    assertEquals(fe.blockRows() + "x" + fe.blockCols(), b.blockRows() + "x" + b.blockCols(), l.name());
                    assertArrayEquals(l.dequantized(), back.dequantized(), l.name());
                    continue;
                }
                assertArrayEquals(l.grid().codes(), back.grid().codes());
                assertArrayEquals(l.grid().zeros(), back.grid().zeros());
                assertArrayEquals(l.grid().scales(), back.grid().scales());
                assertArrayEquals(l.dequantized(), back.dequantized(), l.name());
                assertEquals(l.spec().scheme().bits(), back.spec().scheme().bits());
                assertEquals(l.spec().scheme().sym(), back.spec().scheme().sym());
            }
        }
    }

    private static final float[] E2M1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    /** The float formats read as docs/formats.md describes them, independently of the writer. */
    private static float[] decodeFloat(SafetensorsCheckpoint st, QuantizedLayer l) {
        String m = l.name();
        int rows = l.rows();
        int cols = l.cols();
        String dt = l.spec().scheme().dataType();
        HostTensor scale = st.get(m + ".weight_scale");
        float[] w = new float[rows * cols];
        if (dt.equals("fp")) {
            assertEquals(DType.F8_E4M3, st.get(m + ".weight").dtype());
            assertEquals(DType.F32, scale.dtype());
            float[] e = st.get(m + ".weight").toFloats();
            float[] sc = scale.toFloats();
            long[] ss = scale.shape();
            int sr = ss.length == 1 ? 1 : (int) ss[0];
            int scn = ss.length == 1 ? 1 : (int) ss[1];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    w[r * cols + c] = e[r * cols + c] * sc[(r / (rows / sr)) * scn + c / (cols / scn)];
                }
            }
            return w;
        }
        boolean fp4 = l.spec().scheme().bits() == 4;
        float[] codes = new float[rows * cols];
        if (fp4) {
            HostTensor p = st.get(m + ".weight_packed");
            assertEquals(DType.U8, p.dtype());
            assertArrayEquals(new long[]{rows, cols / 2}, p.shape());
            int[] b = p.toInts();
            for (int i = 0; i < codes.length; i++) {
                int code = (b[i / 2] >>> (4 * (i % 2))) & 15;
                codes[i] = (code & 8) != 0 ? -E2M1[code & 7] : E2M1[code & 7];
            }
        } else {
            HostTensor e = st.get(m + ".weight");
            assertEquals(DType.F8_E4M3, e.dtype());
            codes = e.toFloats();
        }
        int group = dt.equals("nv_fp") ? 16 : 32;
        assertArrayEquals(new long[]{rows, cols / group}, scale.shape());
        float global = 1f;
        float[] sc;
        if (dt.equals("nv_fp")) {
            assertEquals(DType.F8_E4M3, scale.dtype());
            sc = scale.toFloats();
            global = st.get(m + ".weight_global_scale").toFloats()[0];
        } else {
            assertEquals(DType.U8, scale.dtype());
            int[] b = scale.toInts();
            sc = new float[b.length];
            for (int i = 0; i < b.length; i++) {
                sc[i] = (float) Math.pow(2, b[i] - 127);
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float s = sc[r * (cols / group) + c / group];
                w[r * cols + c] = codes[r * cols + c] * (global == 1f ? s : CtCases.recip(CtCases.recip(s * CtCases.recip(global))));
            }
        }
        return w;
    }

    @Test
    void singleSchemeTargetsLinearAndIgnoresFloatLayers(@TempDir Path tmp) throws Exception {
        ExportFixture f = CtCases.fixture(tmp, "w4g32_asym");
        JsonNode qc = new ObjectMapper().readTree(Files.readString(CtCases.export(f, tmp.resolve("out")).resolve("config.json")))
                .get("quantization_config");
        assertEquals("compressed-tensors", qc.get("quant_method").asText());
        assertEquals("pack-quantized", qc.get("format").asText());
        assertEquals("compressed", qc.get("quantization_status").asText());
        assertEquals(1, qc.get("config_groups").size());
        JsonNode g = qc.get("config_groups").get("group_0");
        assertEquals("[\"Linear\"]", g.get("targets").toString());
        // config.json is written with sorted keys, as compressed-tensors' own writer does
        assertEquals(List.of("format", "input_activations", "output_activations", "targets", "weights"), fields(g));
        JsonNode w = g.get("weights");
        assertEquals(4, w.get("num_bits").asInt());
        assertEquals("group", w.get("strategy").asText());
        assertEquals(32, w.get("group_size").asInt());
        assertFalse(w.get("symmetric").asBoolean());
        assertEquals("torch.int8", w.get("zp_dtype").asText());
        assertEquals("[\"model.layers.1.mlp.down_proj\",\"lm_head\"]", qc.get("ignore").toString());
    }

    @Test
    void mixedSchemesGetOneGroupEachWithExactNames(@TempDir Path tmp) throws Exception {
        ExportFixture f = CtCases.fixture(tmp, "mixed");
        JsonNode qc = new ObjectMapper().readTree(Files.readString(CtCases.export(f, tmp.resolve("out")).resolve("config.json")))
                .get("quantization_config");
        JsonNode groups = qc.get("config_groups");
        assertEquals(4, groups.size()); // W4g32 asym, W8g32 sym, W2 channel asym, W4g64 sym (lm_head)
        List<String> targeted = new ArrayList<>();
        groups.forEach(g -> g.get("targets").forEach(t -> targeted.add(t.asText())));
        assertEquals(f.quantized.size(), targeted.size());
        assertEquals(new java.util.HashSet<>(f.quantized.keySet()), new java.util.HashSet<>(targeted));
        assertEquals("pack-quantized", qc.get("format").asText());
        assertEquals("[\"model.layers.1.mlp.down_proj\"]", qc.get("ignore").toString());
        JsonNode k = groups.get("group_2").get("weights");
        assertEquals("channel", k.get("strategy").asText());
        assertTrue(k.get("group_size").isNull());
    }

    @Test
    void twoFormatsMakeTheTopLevelMixedPrecision(@TempDir Path tmp) throws Exception {
        ExportFixture f = CtCases.fixture(tmp, "mixed_formats");
        JsonNode qc = new ObjectMapper().readTree(Files.readString(CtCases.export(f, tmp.resolve("out")).resolve("config.json")))
                .get("quantization_config");
        assertEquals("mixed-precision", qc.get("format").asText());
        assertEquals("pack-quantized", qc.get("config_groups").get("group_0").get("format").asText());
        assertEquals("int-quantized", qc.get("config_groups").get("group_1").get("format").asText());
        JsonNode a = qc.get("config_groups").get("group_1").get("input_activations");
        assertEquals("token", a.get("strategy").asText());
        assertTrue(a.get("dynamic").asBoolean());
    }

    @Test
    void refusesWhatItCannotStoreNamingTheLayer() {
        LlmCompressorExporter e = new LlmCompressorExporter();
        String fmt = LlmCompressorExporter.FORMAT;
        LayerSpec w5 = new LayerSpec("model.layers.0.mlp.up_proj", 64, 96, QuantScheme.intWeightOnly(5, 32, true), 0, false, "t");
        assertTrue(e.refusal(fmt, w5).orElseThrow().contains("model.layers.0.mlp.up_proj"));
        assertTrue(e.refusal(fmt, w5).orElseThrow().contains("2/3/4/8-bit"));
        LayerSpec g48 = new LayerSpec("model.layers.0.mlp.up_proj", 64, 96, QuantScheme.intWeightOnly(4, 48, true), 0, false, "t");
        assertTrue(e.refusal(fmt, g48).orElseThrow().contains("divide in_features 64"));
        LayerSpec perTensor = new LayerSpec("m", 64, 96, QuantScheme.intWeightOnly(4, 0, true), 0, false, "t");
        assertTrue(e.refusal(fmt, perTensor).orElseThrow().contains("per tensor"));
        LayerSpec gguf = new LayerSpec("m", 256, 96, QuantScheme.builder().bits(4).groupSize(32).sym(false).dataType("int_asym_dq").superBits(6).superGroupSize(8).build(), 0, false, "t");
        assertTrue(e.refusal(fmt, gguf).orElseThrow().contains("super_bits"));
        LayerSpec w4a8 = new LayerSpec("m", 64, 96, QuantScheme.builder().bits(4).groupSize(-1).actBits(8).build(), 0, false, "t");
        assertTrue(e.refusal(fmt, w4a8).orElseThrow().contains("int-quantized"));
        LayerSpec fp = new LayerSpec("m", 64, 96, QuantScheme.builder().bits(4).groupSize(32).dataType("mx_xx").build(), 0, false, "t");
        assertTrue(e.refusal(fmt, fp).orElseThrow().contains("mx_xx"));
        assertTrue(e.refusal(fmt, new LayerSpec("m", 172, 64, QuantScheme.FULL_PRECISION, 0, false, "t")).isEmpty());
        assertTrue(e.acceptsQuantizedLmHead(fmt));
    }

    private static List<String> fields(JsonNode n) {
        List<String> r = new ArrayList<>();
        n.fieldNames().forEachRemaining(r::add);
        return r;
    }
}
