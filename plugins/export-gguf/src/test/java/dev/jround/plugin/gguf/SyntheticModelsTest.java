package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small made-up Qwen3, Qwen2 and Llama-3 / SentencePiece models with rows of 256 and more, so the k-quant mixtures
 * really hold k-quants; checks metadata, tokenizers, tensor types, numerics and loading back.
 */
class SyntheticModelsTest {

    @TempDir
    Path tmp;

    static final int HIDDEN = 256;
    static final int FFN = 512;
    static final int LAYERS = 2;
    static final int VOCAB = 300;

    static float[] randn(Random r, int n, double sd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * sd);
        return x;
    }

    /** Writes config.json, weights and tokenizer files of a tiny model of the given type. */
    static Path makeModel(Path dir, String modelType, boolean tied, boolean bias, String tokenizer, String extraConfig)
            throws Exception {
        Files.createDirectories(dir);
        int heads = 4;
        int kv = 2;
        int hd = 64;
        String cfg = "{\"architectures\":[\"X\"],\"model_type\":\"" + modelType + "\",\"hidden_size\":" + HIDDEN
                + ",\"intermediate_size\":" + FFN + ",\"num_hidden_layers\":" + LAYERS + ",\"num_attention_heads\":" + heads
                + ",\"num_key_value_heads\":" + kv + ",\"head_dim\":" + hd + ",\"max_position_embeddings\":4096,"
                + "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"vocab_size\":" + VOCAB + ",\"tie_word_embeddings\":" + tied
                + ",\"bos_token_id\":" + (VOCAB - 3) + ",\"eos_token_id\":" + (VOCAB - 1) + extraConfig + "}";
        Files.writeString(dir.resolve("config.json"), cfg);
        Random r = new Random(modelType.hashCode());
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", HostTensor.ofFloats(randn(r, VOCAB * HIDDEN, 0.02), VOCAB, HIDDEN));
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            t.put(p + "self_attn.q_proj.weight", HostTensor.ofFloats(randn(r, heads * hd * HIDDEN, 0.02), heads * hd, HIDDEN));
            t.put(p + "self_attn.k_proj.weight", HostTensor.ofFloats(randn(r, kv * hd * HIDDEN, 0.02), kv * hd, HIDDEN));
            t.put(p + "self_attn.v_proj.weight", HostTensor.ofFloats(randn(r, kv * hd * HIDDEN, 0.02), kv * hd, HIDDEN));
            t.put(p + "self_attn.o_proj.weight", HostTensor.ofFloats(randn(r, HIDDEN * heads * hd, 0.02), HIDDEN, heads * hd));
            t.put(p + "mlp.gate_proj.weight", HostTensor.ofFloats(randn(r, FFN * HIDDEN, 0.02), FFN, HIDDEN));
            t.put(p + "mlp.up_proj.weight", HostTensor.ofFloats(randn(r, FFN * HIDDEN, 0.02), FFN, HIDDEN));
            t.put(p + "mlp.down_proj.weight", HostTensor.ofFloats(randn(r, HIDDEN * FFN, 0.02), HIDDEN, FFN));
            t.put(p + "input_layernorm.weight", HostTensor.ofFloats(randn(r, HIDDEN, 1), HIDDEN));
            t.put(p + "post_attention_layernorm.weight", HostTensor.ofFloats(randn(r, HIDDEN, 1), HIDDEN));
            if (bias) {
                t.put(p + "self_attn.q_proj.bias", HostTensor.ofFloats(randn(r, heads * hd, 0.1), heads * hd));
                t.put(p + "self_attn.k_proj.bias", HostTensor.ofFloats(randn(r, kv * hd, 0.1), kv * hd));
                t.put(p + "self_attn.v_proj.bias", HostTensor.ofFloats(randn(r, kv * hd, 0.1), kv * hd));
            }
            if (modelType.equals("qwen3")) {
                t.put(p + "self_attn.q_norm.weight", HostTensor.ofFloats(randn(r, hd, 1), hd));
                t.put(p + "self_attn.k_norm.weight", HostTensor.ofFloats(randn(r, hd, 1), hd));
            }
        }
        t.put("model.norm.weight", HostTensor.ofFloats(randn(r, HIDDEN, 1), HIDDEN));
        if (!tied) {
            t.put("lm_head.weight", HostTensor.ofFloats(randn(r, VOCAB * HIDDEN, 0.02), VOCAB, HIDDEN));
        }
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        switch (tokenizer) {
            case "bytelevel" -> byteLevelTokenizer(dir);
            case "sentencepiece" -> sentencePieceModel(dir);
            default -> throw new IllegalArgumentException(tokenizer);
        }
        return dir;
    }

    /** A GPT-2 style tokenizer.json: 256 byte symbols, a few merges, three special tokens at the end. */
    static void byteLevelTokenizer(Path dir) throws Exception {
        StringBuilder vocab = new StringBuilder();
        String[] byteSymbols = gpt2ByteSymbols();
        for (int i = 0; i < 256; i++) {
            String sym = byteSymbols[i].replace("\\", "\\\\").replace("\"", "\\\"");
            vocab.append(i == 0 ? "" : ",").append('"').append(sym).append("\":").append(i);
        }
        vocab.append(",\"\u0120t\":256,\"he\":257,\"\u0120the\":258");
        String added = "[{\"id\":297,\"content\":\"<|endoftext|>\",\"special\":true},"
                + "{\"id\":298,\"content\":\"<|im_start|>\",\"special\":true},{\"id\":299,\"content\":\"<|im_end|>\",\"special\":true},"
                + "{\"id\":296,\"content\":\"<think>\",\"special\":false}]";
        String tj = "{\"added_tokens\":" + added + ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\"},"
                + "{\"type\":\"ByteLevel\"}]},\"decoder\":{\"type\":\"ByteLevel\"},\"post_processor\":null,"
                + "\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":[[\"\u0120\",\"t\"],[\"h\",\"e\"],[\"\u0120t\",\"he\"],[\"a b\",\"c\"]]}}";
        Files.writeString(dir.resolve("tokenizer.json"), tj);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\":\"<|im_end|>\",\"pad_token\":\"<|endoftext|>\","
                + "\"bos_token\":null,\"add_bos_token\":false,\"chat_template\":\"{% for m in messages %}{{ m.content }}{% endfor %}\"}");
    }

    /** GPT-2's byte-to-unicode table: printable bytes stand for themselves, the others map to U+0100 upwards. */
    static String[] gpt2ByteSymbols() {
        String[] out = new String[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = new String(Character.toChars(printable ? b : 256 + n++));
        }
        return out;
    }

    /** A SentencePiece ModelProto with four pieces, and an added special token in tokenizer_config.json. */
    static void sentencePieceModel(Path dir) throws Exception {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        String[] pieces = {"<unk>", "<s>", "</s>", "\u2581the"};
        float[] scores = {0f, 0f, 0f, -3.5f};
        int[] types = {2, 3, 3, 1};
        for (int i = 0; i < pieces.length; i++) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            byte[] s = pieces[i].getBytes(StandardCharsets.UTF_8);
            p.write(0x0A);
            p.write(s.length);
            p.write(s);
            p.write(0x15);
            int bits = Float.floatToIntBits(scores[i]);
            for (int k = 0; k < 4; k++) p.write(bits >>> (8 * k));
            p.write(0x18);
            p.write(types[i]);
            model.write(0x0A);
            model.write(p.size());
            model.write(p.toByteArray());
        }
        model.write(new byte[]{0x12, 0x02, 0x08, 0x01}); // trainer spec (ignored)
        Files.write(dir.resolve("tokenizer.model"), model.toByteArray());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"unk_token\":\"<unk>\","
                + "\"add_bos_token\":true,\"add_eos_token\":false,\"added_tokens_decoder\":{\"5\":{\"content\":\"<|eot_id|>\",\"special\":true}}}");
    }

    static Path export(Path model, String mix, Map<String, Object> options, List<QuantizedLayer> quantized) throws Exception {
        Path out = model.resolveSibling(model.getFileName() + "-" + mix);
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            ExportContext ctx = ExportContext.builder().format("gguf:" + mix).outputDir(out).config(ConfigJson.read(model))
                    .sourceDir(model).source(src).blockPrefixes(List.of("model.layers")).options(options)
                    .layout(Layouts.of(ConfigJson.read(model))).build();
            try (ExportSession s = new GgufExporter().open(ctx)) {
                for (QuantizedLayer q : quantized) s.addQuantized(q);
                s.finish();
            }
        }
        try (var f = Files.list(out)) {
            return f.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
        }
    }

    @Test
    void qwen3Q4KmHoldsKQuantsWithTheRightMetadataAndLoadsBack() throws Exception {
        Path model = makeModel(tmp.resolve("TinyQwen3"), "qwen3", true, false, "bytelevel", "");
        Path file = export(model, "q4_k_m", Map.of(), List.of());
        // kept for tools/fixtures/gguf/ci-check.sh: a file with real Q4_K/Q6_K tensors and a byte-level BPE vocabulary
        Path keep = Path.of("target", "gguf-export", "synthetic-qwen3");
        Files.createDirectories(keep);
        Files.copy(file, keep.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(keep.resolve("model"));
        for (String f : new String[]{"config.json", "model.safetensors"}) {
            Files.copy(model.resolve(f), keep.resolve("model").resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (GgufFile g = GgufFile.open(file); SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            assertEquals("qwen3", g.getString("general.architecture", null));
            assertEquals(HIDDEN, g.getLong("qwen3.embedding_length", 0));
            assertEquals(64, g.getLong("qwen3.attention.key_length", 0));
            assertEquals(2, g.getLong("qwen3.attention.head_count_kv", 0));
            assertEquals(1e6f, ((Number) g.get("qwen3.rope.freq_base").value()).floatValue());
            assertEquals(null, g.get("qwen3.vocab_size"));
            assertEquals("gpt2", g.getString("tokenizer.ggml.model", null));
            assertEquals("qwen2", g.getString("tokenizer.ggml.pre", null));
            List<?> tokens = g.get("tokenizer.ggml.tokens").list();
            assertEquals(VOCAB, tokens.size());
            assertEquals("\u0120the", tokens.get(258));
            assertEquals("[PAD259]", tokens.get(259));
            assertEquals("<|im_end|>", tokens.get(299));
            List<?> types = g.get("tokenizer.ggml.token_type").list();
            assertEquals(1L, types.get(0));
            assertEquals("\u0100", tokens.get(0));
            assertEquals("\u010a", tokens.get(10));
            assertEquals(5L, types.get(259));
            assertEquals(4L, types.get(296));
            assertEquals(3L, types.get(299));
            assertEquals(List.of("\u0120 t", "h e", "\u0120t he", "a\u0120b c"), g.get("tokenizer.ggml.merges").list());
            assertEquals(299L, g.getLong("tokenizer.ggml.eos_token_id", -1));
            assertEquals(297L, g.getLong("tokenizer.ggml.padding_token_id", -1));
            assertEquals(297L, g.getLong("tokenizer.ggml.bos_token_id", -1), "from config.json");
            assertEquals(false, g.get("tokenizer.ggml.add_bos_token").value());
            assertTrue(g.getString("tokenizer.chat_template", "").startsWith("{% for m"));
            assertFalse(g.hasTensor("output.weight"));
            // q/k/o/gate/up Q4_K; attn_v and ffn_down Q6_K where use_more_bits(i, 2) holds (layer 1); tied embedding Q6_K
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.1.ffn_up.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            assertEquals(GgmlType.F32, g.tensor("blk.0.attn_k_norm.weight").type());
            // qwen3 is not permuted: the file's attn_q decodes close to the source q_proj in HF row order
            float[] q = src.floats("model.layers.0.self_attn.q_proj.weight");
            assertTrue(RoundTripTest.relError(q, g.dequantize("blk.0.attn_q.weight")) < 0.12);
            float[] down = src.floats("model.layers.1.mlp.down_proj.weight");
            assertTrue(RoundTripTest.relError(down, g.dequantize("blk.1.ffn_down.weight")) < 0.02);
        }
        try (InferenceBackend.LoadedCheckpoint ck = new GgufInferenceBackend().load(file);
             SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            assertEquals("qwen3", ck.config().modelType());
            assertEquals(64, ck.config().requireInt("head_dim"));
            assertEquals(src.names().size(), ck.weights().names().size());
            assertTrue(RoundTripTest.relError(src.floats("model.layers.0.self_attn.k_proj.weight"),
                    ck.weights().floats("model.layers.0.self_attn.k_proj.weight")) < 0.12);
        }
    }

    @Test
    void qwen2BiasesStayF32AndEveryKMixtureLoads() throws Exception {
        Path model = makeModel(tmp.resolve("TinyQwen2"), "qwen2", false, true, "bytelevel", "");
        for (String mix : new String[]{"q2_k_s", "q3_k_m", "q5_k_s"}) {
            Path file = export(model, mix, Map.of("disable_opt_rtn", mix.startsWith("q3")), List.of());
            GgufMix m = GgufMix.fromFormat("gguf:" + mix).orElseThrow();
            try (GgufFile g = GgufFile.open(file); SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
                assertEquals(m.fileType(), g.getLong("general.file_type", -1));
                assertEquals(GgmlType.F32, g.tensor("blk.0.attn_q.bias").type());
                assertEquals(m.base(), g.tensor("blk.0.attn_q.weight").type(), mix);
                assertEquals(m == GgufMix.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K, g.tensor("output.weight").type(), mix);
                assertEquals(m.base(), g.tensor("token_embd.weight").type(), mix);
                assertArrayEquals(src.floats("model.layers.1.self_attn.v_proj.bias"), g.dequantize("blk.1.attn_v.bias"));
                double bound = switch (m.base()) {
                    case Q2_K -> 0.6;
                    case Q3_K -> 0.3;
                    case Q4_K, Q4_1 -> 0.12;
                    case Q5_K, Q5_0, Q5_1 -> 0.06;
                    default -> 0.03;
                };
                for (GgufTensorInfo t : g.tensors()) {
                    String hf = GgufNames.toHf(t.name());
                    if (t.ne().length == 2) {
                        double e = RoundTripTest.relError(src.floats(hf), g.dequantize(t));
                        assertTrue(e < bound, mix + " " + t.name() + " " + t.type() + " error " + e);
                    }
                }
            }
        }
    }

    private static void assertArrayEquals(float[] a, float[] b) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
    }

    @Test
    void llama3RopeSentencePieceAndPermutedPipelineLayers() throws Exception {
        String rope = ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":8192}";
        Path model = makeModel(tmp.resolve("TinyLlama"), "llama", false, false, "sentencepiece", rope);
        // a q_proj the pipeline quantized on the Q4_0 grid: written from its codes, rows permuted for llama
        float[] w;
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            w = src.floats("model.layers.0.self_attn.q_proj.weight");
        }
        QuantizedLayer q = AidreamsExportTest.rtnW4G32("model.layers.0.self_attn.q_proj", w, 256, HIDDEN);
        float[] imatrix = new float[HIDDEN];
        java.util.Arrays.fill(imatrix, 1f);
        LayerSpec kSpec = new LayerSpec("model.layers.0.self_attn.k_proj", HIDDEN, 128, QuantScheme.intWeightOnly(4, 128, true), 0, false, "t");
        float[] kw;
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            kw = src.floats("model.layers.0.self_attn.k_proj.weight");
        }
        QuantizedLayer k = QuantizedLayer.ofGrid(kSpec, 128, new int[kw.length], new float[128], new int[128], kw, null)
                .withImportance(imatrix);
        Path file = export(model, "q4_0", Map.of("disable_opt_rtn", true), List.of(q, k));
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals("llama", g.getString("general.architecture", null));
            assertEquals("llama", g.getString("tokenizer.ggml.model", null));
            assertEquals(List.of("<unk>", "<s>", "</s>", "\u2581the", "[PAD4]", "<|eot_id|>"), g.get("tokenizer.ggml.tokens").list().subList(0, 6));
            assertEquals(List.of(0f, 0f, 0f, -3.5f, -1000f, -1000f), g.get("tokenizer.ggml.scores").list().subList(0, 6));
            assertEquals(List.of(2L, 3L, 3L, 1L, 5L, 3L), g.get("tokenizer.ggml.token_type").list().subList(0, 6));
            assertEquals(1L, g.getLong("tokenizer.ggml.bos_token_id", -1));
            assertEquals(true, g.get("tokenizer.ggml.add_bos_token").value());
            assertEquals("rope_freqs.weight", g.tensors().get(0).name());
            float[] f = g.dequantize("rope_freqs.weight");
            assertEquals(32, f.length);
            assertEquals(1f, f[0]);
            assertEquals(8f, f[31]);
            assertEquals(64, g.getLong("llama.rope.dimension_count", 0));
            assertEquals(GgmlType.Q6_K, g.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_0, g.tensor("token_embd.weight").type());
        }
        try (InferenceBackend.LoadedCheckpoint ck = new GgufInferenceBackend().load(file)) {
            CodecFixtureTest.assertBitsEqual(q.dequantized(), ck.weights().floats("model.layers.0.self_attn.q_proj.weight"), "q_proj");
            assertTrue(RoundTripTest.relError(kw, ck.weights().floats("model.layers.0.self_attn.k_proj.weight")) < 0.12);
            assertFalse(ck.config().getBoolean("tie_word_embeddings", true));
        }
    }

    /** The GGUF names llama.cpp expects for a Qwen2 (q/k/v biases, untied) and a Qwen3 (q/k norms, tied) checkpoint. */
    static java.util.Set<String> expectedNames(String type, boolean tied) {
        java.util.Set<String> names = new java.util.TreeSet<>(List.of("token_embd.weight", "output_norm.weight"));
        if (!tied) {
            names.add("output.weight");
        }
        for (int i = 0; i < LAYERS; i++) {
            for (String t : new String[]{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate",
                    "ffn_up", "ffn_down"}) {
                names.add("blk." + i + "." + t + ".weight");
            }
            if (type.equals("qwen2")) {
                for (String t : new String[]{"attn_q", "attn_k", "attn_v"}) {
                    names.add("blk." + i + "." + t + ".bias");
                }
            } else {
                names.add("blk." + i + ".attn_q_norm.weight");
                names.add("blk." + i + ".attn_k_norm.weight");
            }
        }
        return names;
    }

    @Test
    void qwenTensorNamesAndMetadataComeFromTheDeclaredRoles() throws Exception {
        for (String type : new String[]{"qwen2", "qwen3"}) {
            boolean tied = type.equals("qwen3");
            Path model = makeModel(tmp.resolve("Roles-" + type), type, tied, type.equals("qwen2"), "bytelevel", "");
            Path file = export(model, "q8_0", Map.of(), List.of());
            try (GgufFile g = GgufFile.open(file); SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
                java.util.Set<String> names = new java.util.TreeSet<>();
                g.tensors().forEach(t -> names.add(t.name()));
                assertEquals(expectedNames(type, tied), names, type);
                assertEquals(type, g.getString("general.architecture", null));
                assertEquals(LAYERS, g.getLong(type + ".block_count", 0));
                assertEquals(4096, g.getLong(type + ".context_length", 0));
                assertEquals(HIDDEN, g.getLong(type + ".embedding_length", 0));
                assertEquals(FFN, g.getLong(type + ".feed_forward_length", 0));
                assertEquals(4, g.getLong(type + ".attention.head_count", 0));
                assertEquals(2, g.getLong(type + ".attention.head_count_kv", 0));
                assertEquals(64, g.getLong(type + ".attention.key_length", 0));
                assertEquals(64, g.getLong(type + ".attention.value_length", 0));
                assertEquals(1e-6f, ((Number) g.get(type + ".attention.layer_norm_rms_epsilon").value()).floatValue());
                assertEquals(1e6f, ((Number) g.get(type + ".rope.freq_base").value()).floatValue());
                // llama.cpp's Qwen converters write neither; its Llama converter writes both
                assertEquals(null, g.get(type + ".vocab_size"));
                assertEquals(null, g.get(type + ".rope.dimension_count"));
                // NeoX rope: q/k rows stay in checkpoint order (Q8_0 keeps them close enough to tell)
                float[] k = src.floats("model.layers.1.self_attn.k_proj.weight");
                assertTrue(RoundTripTest.relError(k, g.dequantize("blk.1.attn_k.weight")) < 0.01, type);
            }
        }
    }

    @Test
    void mistralGoesToTheLlamaGraphWithPermutedQueries() throws Exception {
        Path model = makeModel(tmp.resolve("TinyMistral"), "mistral", false, false, "sentencepiece", "");
        Path file = export(model, "q8_0", Map.of(), List.of());
        try (GgufFile g = GgufFile.open(file); SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            assertEquals("llama", g.getString("general.architecture", null));
            assertEquals(VOCAB, g.getLong("llama.vocab_size", 0));
            assertEquals(64, g.getLong("llama.rope.dimension_count", 0));
            float[] q = src.floats("model.layers.0.self_attn.q_proj.weight");
            float[] permuted = GgufNames.permuteForLlama(q, 4 * 64, HIDDEN, 4);
            assertTrue(RoundTripTest.relError(permuted, g.dequantize("blk.0.attn_q.weight")) < 0.01);
            float[] k = src.floats("model.layers.0.self_attn.k_proj.weight");
            assertTrue(RoundTripTest.relError(GgufNames.permuteForLlama(k, 2 * 64, HIDDEN, 2), g.dequantize("blk.0.attn_k.weight")) < 0.01);
        }
    }

    @Test
    void unsupportedArchitecturesAndTokenizersAreRefused() throws Exception {
        Path model = makeModel(tmp.resolve("Opt"), "qwen3", true, false, "bytelevel", "");
        String cfg = Files.readString(model.resolve("config.json"));
        // the OPT plugin declares no llama.cpp architecture: refused before anything is written
        Files.writeString(model.resolve("config.json"), cfg.replace("\"qwen3\"", "\"opt\"").replace("{", "{\"ffn_dim\":" + FFN + ","));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> export(model, "q4_0", Map.of(), List.of()));
        assertTrue(e.getMessage().contains("llama.cpp has no OPT architecture"), e.getMessage());
        Files.writeString(model.resolve("config.json"), cfg.replace("\"qwen3\"", "\"mistral\""));
        e = assertThrows(UnsupportedFeatureException.class, () -> export(model, "q4_0", Map.of(), List.of()));
        assertTrue(e.getMessage().contains("pre-tokenizer"), e.getMessage());
        try (var files = Files.list(tmp)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".gguf")));
        }
    }
}
