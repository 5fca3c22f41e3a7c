package dev.jround.it.job;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.PackedConverter;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.plugin.autoround.AutoRoundExporter;
import dev.jround.plugin.mlx.MlxConverter;
import dev.jround.plugin.mlx.MlxExporter;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 end to end on aidreams260K: one SignRound pass with every MLX width (2/3/4/5/6/8 bits, groups 32 and 64,
 * sym and asym through layer_config) written as fake, mlx and auto_round:mlx. Every mlx tensor, decoded by a
 * byte-wise decoder written here from MLX's CPU extractor, equals the fake export's weight exactly, and both MLX
 * checkpoints evaluate with the fake model's KL divergence. Then auto_round -> mlx -> auto_round conversion is exact.
 */
class MlxRoundTripTest {

    @TempDir
    Path out;

    @Test
    void everyWidthFromOneTuningPassDecodesAndEvaluatesLikeTheFakeModel() throws IOException {
        Path model = Shared.aidreams();
        Path ids = model.resolve("calib_ids.json");
        Map<String, Object> layerConfig = new LinkedHashMap<>();
        layerConfig.put("layers.0.self_attn.q_proj", Map.of("bits", 2));
        layerConfig.put("layers.1.self_attn.q_proj", Map.of("bits", 8, "sym", true));
        layerConfig.put("self_attn.k_proj", Map.of("bits", 3));
        layerConfig.put("self_attn.v_proj", Map.of("bits", 5, "group_size", 64));
        layerConfig.put("self_attn.o_proj", Map.of("bits", 6, "sym", true));
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false)
                .layerConfig(layerConfig).seqlen(128).nsamples(16).iters(20).lr(5e-3)
                .dataset(model.resolve("calib.jsonl").toString())
                .build().quantizeAndSave(out, "fake", "mlx", "auto_round:mlx");
        List<Path> outputs = result.outputs();
        assertEquals(3, outputs.size());
        Path fake = outputs.get(0);
        Set<Integer> widths = new TreeSet<>();
        for (Path mlx : outputs.subList(1, 3)) {
            JsonNode q = new ObjectMapper().readTree(mlx.resolve("config.json").toFile()).get("quantization");
            int layers = 0;
            try (SafetensorsCheckpoint f = SafetensorsCheckpoint.open(fake); SafetensorsCheckpoint m = SafetensorsCheckpoint.open(mlx)) {
                for (String n : m.names()) {
                    if (!n.endsWith(".scales")) {
                        continue;
                    }
                    String module = n.substring(0, n.length() - ".scales".length());
                    int bits = q.get(module).get("bits").asInt();
                    widths.add(bits);
                    float[] decoded = decode(m.get(module + ".weight"), m.get(module + ".scales"), m.get(module + ".biases"), bits);
                    assertArrayEquals(f.get(module + ".weight").toFloats(), decoded, 0f, mlx.getFileName() + " " + module + " W" + bits);
                    layers++;
                }
            }
            assertEquals(16, layers, "q/k/v/o of 4 blocks are quantized; the 172-wide MLP stays in float");
        }
        assertEquals(Set.of(2, 3, 4, 5, 6, 8), widths);
        EvalReport reference = Quality.against(fake, model, ids, 32);
        assertTrue(reference.meanKld() > 0, "quantization changes the model");
        for (Path mlx : outputs.subList(1, 3)) {
            EvalReport r = Quality.against(mlx, model, ids, 32);
            assertEquals(reference.meanKld(), r.meanKld(), 1e-9, mlx + " KLD");
            assertEquals(reference.perplexity(), r.perplexity(), 1e-9, mlx + " PPL");
        }
    }

    @Test
    void autoRoundConvertsToMlxAndBackWithoutRequantizing() throws IOException {
        Path model = Shared.aidreams();
        // W3 asym: auto_round's native packing (zero points as is) keeps the float32 dtype, so tensors compare bit for bit
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W3A16").groupSize(32).sym(false)
                .iters(0).disableOptRtn(true).dataset(model.resolve("calib.jsonl").toString()).seqlen(128).nsamples(16)
                .build().quantizeAndSave(out, "auto_round", "mlx");
        Path autoRound = result.outputs().get(0);
        Path direct = result.outputs().get(1);
        Path converted = Files.createDirectories(out.resolve("converted-mlx"));
        try (PackedCheckpoint in = PackedCheckpoint.open(autoRound)) {
            PackedConverter.convert(in, new MlxExporter(), "mlx", converted, 0);
        }
        // the converted checkpoint holds the same tensors as the one the tuning pass wrote
        try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(direct); SafetensorsCheckpoint b = SafetensorsCheckpoint.open(converted)) {
            assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()));
            for (String n : a.names()) {
                assertEquals(a.get(n).dtype(), b.get(n).dtype(), n);
                assertEquals(a.get(n).data(), b.get(n).data(), n);
            }
        }
        Path back = Files.createDirectories(out.resolve("back-auto_round"));
        MlxConverter.convert(converted, new AutoRoundExporter(), "auto_round", back, 0);
        try (PackedCheckpoint a = PackedCheckpoint.open(autoRound); PackedCheckpoint b = PackedCheckpoint.open(back)) {
            assertEquals(a.packedModules(), b.packedModules());
            assertEquals(a.packingFormat(), b.packingFormat());
            for (String m : a.packedModules()) {
                var x = a.layer(m);
                var y = b.layer(m);
                assertArrayEquals(x.grid().codes(), y.grid().codes(), m);
                assertArrayEquals(x.grid().scales(), y.grid().scales(), m);
                assertArrayEquals(x.grid().zeros(), y.grid().zeros(), m);
                assertEquals(x.spec().scheme(), y.spec().scheme(), m);
            }
        }
    }

    /**
     * Plain RTN to mlx holds the reference AutoRound's codes and scales (its auto_round exports of aidreams260K: the
     * reference's MLX packer takes the same per-group scale and zero point) and biases of exactly {@code -s*z}.
     */
    @Test
    void rtnMlxHoldsTheReferenceCodesAndScales() {
        Path model = Shared.aidreams();
        String[][] cases = {{"4", "true", "auto_round_w4g32sym"}, {"4", "false", "auto_round_w4g32asym"}, {"2", "true", "auto_round_w2g32sym"}};
        for (String[] c : cases) {
            int bits = Integer.parseInt(c[0]);
            Path ref = Shared.referenceExport(c[2]);
            Path dir = out.resolve(c[2]);
            Path mlx = AutoRound.builder(model.toString()).scheme("W4A16").bits(bits).groupSize(32).sym(Boolean.parseBoolean(c[1]))
                    .iters(0).disableOptRtn(true).build().quantizeAndSave(dir, "mlx").outputs().get(0);
            try (PackedCheckpoint theirs = PackedCheckpoint.open(ref); SafetensorsCheckpoint mine = SafetensorsCheckpoint.open(mlx)) {
                assertEquals(16, theirs.packedModules().size());
                for (String m : theirs.packedModules()) {
                    var r = theirs.layer(m);
                    HostTensor w = mine.get(m + ".weight");
                    float[] s = mine.get(m + ".scales").toFloats();
                    float[] b = mine.get(m + ".biases").toFloats();
                    assertArrayEquals(r.grid().scales(), s, 0f, c[2] + " " + m + " scales");
                    float[] ones = new float[s.length];
                    java.util.Arrays.fill(ones, 1f);
                    float[] zeros = new float[s.length];
                    // decoding with scale 1 and bias 0 gives the codes themselves
                    float[] codes = decode(w, HostTensor.ofFloats(ones, mine.get(m + ".scales").shape()), HostTensor.ofFloats(zeros, mine.get(m + ".scales").shape()), bits);
                    for (int i = 0; i < codes.length; i++) {
                        assertEquals(r.grid().codes()[i], (int) codes[i], c[2] + " " + m + " code " + i);
                    }
                    for (int i = 0; i < s.length; i++) {
                        assertEquals(-r.grid().scales()[i] * r.grid().zeros()[i], b[i], 0f, c[2] + " " + m + " bias " + i);
                    }
                }
            }
        }
    }

    /**
     * The reference AutoRound's MLX packing (its {@code _pack_weight_mlx}, fp16 scales, fp16 {@code -scale*zp}),
     * run from its source on the RTN codes and scales by tools/fixtures/mlx/reference_packer_parity.py, recorded as
     * hashes in src/test/resources/mlx/reference-packing.json: jround's plain-RTN mlx exports at W2..W8 G32 (W4 and
     * W8 sym and asym) hold the same words, and scales and biases that round to the reference's fp16 ones.
     */
    @Test
    void rtnMlxMatchesTheReferencePackersOutput() throws IOException, java.security.NoSuchAlgorithmException {
        Path model = Shared.aidreams();
        JsonNode fixture;
        try (var in = getClass().getResourceAsStream("/mlx/reference-packing.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        assertEquals(8, fixture.size());
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) fixture::fields) {
            JsonNode run = e.getValue();
            Path mlx = AutoRound.builder(model.toString()).scheme("W4A16").bits(run.get("bits").asInt()).groupSize(32)
                    .sym(run.get("sym").asBoolean()).iters(0).disableOptRtn(true).build()
                    .quantizeAndSave(out.resolve(e.getKey()), "mlx").outputs().get(0);
            try (SafetensorsCheckpoint mine = SafetensorsCheckpoint.open(mlx)) {
                assertEquals(16, run.get("layers").size());
                for (var l : (Iterable<Map.Entry<String, JsonNode>>) run.get("layers")::fields) {
                    String m = l.getKey();
                    HostTensor s = mine.get(m + ".scales");
                    HostTensor b = mine.get(m + ".biases");
                    assertEquals(l.getValue().get("weight").asText(), sha(mine.get(m + ".weight")), e.getKey() + " " + m + " words");
                    assertEquals(l.getValue().get("scales_fp16").asText(), sha(HostTensor.ofFloats(s.toFloats(), DType.F16, s.shape())), e.getKey() + " " + m + " scales");
                    assertEquals(l.getValue().get("biases_fp16").asText(), sha(HostTensor.ofFloats(b.toFloats(), DType.F16, b.shape())), e.getKey() + " " + m + " biases");
                }
            }
        }
    }

    private static String sha(HostTensor t) throws java.security.NoSuchAlgorithmException {
        ByteBuffer data = t.data().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
    }

    /**
     * MLX's affine decode from the raw bytes: 2/4/8-bit codes {@code 8/bits} per byte, 3/5-bit codes 8 per 3/5 bytes,
     * 6-bit codes 4 per 3 bytes, each value's bits lowest first across consecutive bytes; {@code w = s*q + b}.
     */
    static float[] decode(HostTensor weight, HostTensor scales, HostTensor biases, int bits) {
        assertEquals(DType.U32, weight.dtype());
        int out = (int) weight.shape()[0];
        int rowBytes = (int) weight.shape()[1] * 4;
        int in = rowBytes * 8 / bits;
        int groups = (int) scales.shape()[1];
        int group = in / groups;
        float[] s = scales.toFloats();
        float[] b = biases.toFloats();
        ByteBuffer raw = weight.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = raw.position();
        int packBytes = bits == 5 ? 5 : bits == 3 || bits == 6 ? 3 : 1;
        int perPack = packBytes * 8 / bits;
        float[] w = new float[out * in];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                int pack = c / perPack;
                long packed = 0;
                for (int k = packBytes - 1; k >= 0; k--) {
                    packed = (packed << 8) | (raw.get(base + r * rowBytes + pack * packBytes + k) & 0xFF);
                }
                int qv = (int) ((packed >>> ((c % perPack) * bits)) & ((1 << bits) - 1));
                int gi = r * groups + c / group;
                w[r * in + c] = s[gi] * qv + b[gi];
            }
        }
        return w;
    }
}
