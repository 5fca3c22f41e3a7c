package dev.jround.plugin.onnx;

import dev.jround.lib.safetensors.ConfigJson;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ArchitectureFacts;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.MapTensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A one-block stand-in Llama (GQA, K not a multiple of the block) written by the session and run in ONNX Runtime:
 * the external-data layout gives the inline layout's logits bit for bit, and a float16 checkpoint becomes a float16
 * graph close to the float32 one. The stand-in layout declares the roles an architecture plugin would (real
 * declarations meet the exporter in it/).
 */
class OnnxExportSessionTest {

    private static final int H = 32;
    private static final int HEADS = 2;
    private static final int KV = 1;
    private static final int HD = 16;
    private static final int FF = 40;
    private static final int VOCAB = 24;
    private static final int GROUP = 16;

    @TempDir
    Path tmp;

    private static TensorLayout layout() {
        ArchitectureFacts f = new ArchitectureFacts("Llama", null, 1, 64, H, FF, HEADS, KV, HD, false, VOCAB,
                ArchitectureFacts.Norm.RMS, 1e-5, 10000.0, HD, true);
        return TensorLayout.builder(f).model("model.embed_tokens", TensorRole.TOKEN_EMBD)
                .model("model.norm", TensorRole.OUTPUT_NORM).model("lm_head", TensorRole.OUTPUT).blocks("model.layers")
                .block("input_layernorm", TensorRole.ATTN_NORM).block("self_attn.q_proj", TensorRole.ATTN_Q)
                .block("self_attn.k_proj", TensorRole.ATTN_K).block("self_attn.v_proj", TensorRole.ATTN_V)
                .block("self_attn.o_proj", TensorRole.ATTN_OUT).block("post_attention_layernorm", TensorRole.FFN_NORM)
                .block("mlp.gate_proj", TensorRole.FFN_GATE).block("mlp.up_proj", TensorRole.FFN_UP)
                .block("mlp.down_proj", TensorRole.FFN_DOWN).build();
    }

    private static final String[][] LINEARS = {
            {"self_attn.q_proj", "" + H, "" + H}, {"self_attn.k_proj", "" + KV * HD, "" + H},
            {"self_attn.v_proj", "" + KV * HD, "" + H}, {"self_attn.o_proj", "" + H, "" + H},
            {"mlp.gate_proj", "" + FF, "" + H}, {"mlp.up_proj", "" + FF, "" + H}, {"mlp.down_proj", "" + H, "" + FF}};

    private static HostTensor tensor(float[] v, DType dtype, long... shape) {
        return HostTensor.ofFloats(v, dtype, shape);
    }

    private static float[] random(Random r, int n, float scale, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = offset + scale * (float) r.nextGaussian();
        }
        return v;
    }

    /** Writes the export into {@code dir} with the given external-data threshold; the model's float type is {@code dtype}. */
    private Path export(Path dir, DType dtype, long threshold) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(3);
        MapTensorStore src = new MapTensorStore();
        src.put("model.embed_tokens.weight", tensor(random(r, VOCAB * H, 0.5f, 0), dtype, VOCAB, H));
        src.put("model.norm.weight", tensor(random(r, H, 0.1f, 1), dtype, H));
        src.put("model.layers.0.input_layernorm.weight", tensor(random(r, H, 0.1f, 1), dtype, H));
        src.put("model.layers.0.post_attention_layernorm.weight", tensor(random(r, H, 0.1f, 1), dtype, H));
        List<QuantizedLayer> layers = new ArrayList<>();
        List<LayerSpec> specs = new ArrayList<>();
        QuantScheme s = QuantScheme.intWeightOnly(4, GROUP, false);
        for (String[] l : LINEARS) {
            String name = "model.layers.0." + l[0];
            int n = Integer.parseInt(l[1]);
            int k = Integer.parseInt(l[2]);
            float[] w = random(r, n * k, 0.2f, 0);
            src.put(name + ".weight", tensor(w, dtype, n, k));
            LayerSpec spec = new LayerSpec(name, k, n, s, 0, false, "test");
            specs.add(spec);
            layers.add(rtn(spec, w));
        }
        ObjectNode cfg = new ObjectMapper().createObjectNode().put("model_type", "llama").put("hidden_act", "silu")
                .put("bos_token_id", 1).put("eos_token_id", 2);
        ExportContext ctx = ExportContext.builder().format("onnx").outputDir(dir).config(ConfigJson.config(dir, cfg))
                .source(src).layers(specs).layout(layout()).blockPrefixes(List.of("model.layers")).build();
        try (ExportSession session = new OnnxExportSession(ctx, threshold)) {
            for (QuantizedLayer q : layers) {
                session.addQuantized(q);
            }
            session.blockFinished(0);
            session.finish();
        }
        return dir;
    }

    /** Asymmetric round-to-nearest with groups of 16 along a row (K = 40 leaves a partial last group). */
    private static QuantizedLayer rtn(LayerSpec spec, float[] w) {
        int n = spec.outFeatures();
        int k = spec.inFeatures();
        int gpr = (k + GROUP - 1) / GROUP;
        int[] codes = new int[n * k];
        float[] scales = new float[n * gpr];
        int[] zeros = new int[n * gpr];
        float[] deq = new float[n * k];
        for (int row = 0; row < n; row++) {
            for (int g = 0; g < gpr; g++) {
                float lo = 0;
                float hi = 0;
                for (int c = g * GROUP; c < Math.min(k, (g + 1) * GROUP); c++) {
                    lo = Math.min(lo, w[row * k + c]);
                    hi = Math.max(hi, w[row * k + c]);
                }
                float scale = (hi - lo) / 15f;
                int zero = Math.round(-lo / scale);
                scales[row * gpr + g] = scale;
                zeros[row * gpr + g] = zero;
                for (int c = g * GROUP; c < Math.min(k, (g + 1) * GROUP); c++) {
                    int q = Math.max(0, Math.min(15, Math.round(w[row * k + c] / scale) + zero));
                    codes[row * k + c] = q;
                    deq[row * k + c] = (q - zero) * scale;
                }
            }
        }
        return QuantizedLayer.ofGrid(spec, GROUP, codes, scales, zeros, deq, null);
    }

    private static float[] logits(Path dir, boolean f16) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] ids = {1, 7, 3, 20, 11, 5};
        long[] pos = {0, 1, 2, 3, 4, 5};
        long[] mask = {1, 1, 1, 1, 1, 1};
        try (OrtSession s = env.createSession(dir.resolve("model.onnx").toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[]{1, 6}));
            in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[]{1, 6}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[]{1, 6}));
            for (String kind : new String[]{"key", "value"}) {
                long[] shape = {1, KV, 0, HD};
                in.put("past_key_values.0." + kind, f16 ? OnnxTensor.createTensor(env, ShortBuffer.allocate(0), shape,
                        ai.onnxruntime.OnnxJavaType.FLOAT16) : OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
            }
            try (OrtSession.Result r = s.run(in)) {
                OnnxTensor t = (OnnxTensor) r.get("logits").orElseThrow();
                assertArrayEquals(new long[]{1, 6, VOCAB}, t.getInfo().getShape());
                if (!f16) {
                    FloatBuffer b = t.getFloatBuffer();
                    float[] out = new float[b.remaining()];
                    b.get(out);
                    return out;
                }
                ShortBuffer b = t.getShortBuffer();
                float[] out = new float[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = dev.jround.spi.tensor.Floats.f16ToF32(b.get(i));
                }
                return out;
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
    }

    @Test
    void externalDataGivesTheInlineModelsLogits() throws Exception {
        Path inline = export(tmp.resolve("inline"), DType.F32, Long.MAX_VALUE);
        Path external = export(tmp.resolve("external"), DType.F32, 0);
        assertFalse(Files.exists(inline.resolve(OnnxExportSession.DATA_FILE)));
        assertTrue(Files.size(external.resolve(OnnxExportSession.DATA_FILE)) > 0);
        assertTrue(Files.size(external.resolve("model.onnx")) < Files.size(inline.resolve("model.onnx")),
                "the weights left model.onnx");
        assertTrue(Files.isRegularFile(external.resolve("genai_config.json")));
        assertArrayEquals(logits(inline, false), logits(external, false));
    }

    @Test
    void aFloat16CheckpointBecomesAFloat16Graph() throws Exception {
        float[] f32 = logits(export(tmp.resolve("f32"), DType.F32, Long.MAX_VALUE), false);
        float[] f16 = logits(export(tmp.resolve("f16"), DType.F16, Long.MAX_VALUE), true);
        double max = 0;
        double scale = 0;
        for (int i = 0; i < f32.length; i++) {
            max = Math.max(max, Math.abs(f32[i] - f16[i]));
            scale = Math.max(scale, Math.abs(f32[i]));
        }
        assertTrue(max < 0.02 * Math.max(1, scale), "float16 logits differ by " + max + " (scale " + scale + ")");
    }

    @Test
    void aTensorWithoutAPlaceInTheGraphIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("refused"));
        ArchitectureFacts f = layout().facts();
        TensorLayout withPos = TensorLayout.builder(f).model("model.embed_tokens", TensorRole.TOKEN_EMBD)
                .model("model.embed_positions", TensorRole.POS_EMBD).build();
        MapTensorStore src = new MapTensorStore();
        src.put("model.embed_positions.weight", HostTensor.ofFloats(new float[4], 2, 2));
        ExportContext ctx = ExportContext.builder().format("onnx").outputDir(dir)
                .config(ConfigJson.config(dir, new ObjectMapper().createObjectNode())).source(src).layout(withPos).build();
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> new OnnxExportSession(ctx, 0));
        assertTrue(e.getMessage().contains("model.embed_positions.weight"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }
}
