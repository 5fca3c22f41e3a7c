package dev.jround.it.model;

import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Tiny random Llama checkpoints (config, safetensors, a word-level tokenizer) for tests that need no ../shared. */
public final class TinyLlama {

    public static final int VOCAB = 32;

    private TinyLlama() {
    }

    /** A 2-layer Llama (GQA 2:1, tied embeddings) with seeded weights in {@code dir}; {@code noise} perturbs a copy. */
    public static Path write(Path dir, int hidden, int ffn, float noise) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": %d, "intermediate_size": %d,
                 "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": %d,
                 "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true,
                 "bos_token_id": 1, "eos_token_id": 2}""".formatted(hidden, ffn, VOCAB));
        Map<String, HostTensor> t = new LinkedHashMap<>();
        Random base = new Random(11);
        Random jitter = new Random(12);
        int kv = hidden / 2;
        t.put("model.embed_tokens.weight", random(base, jitter, noise, VOCAB, hidden));
        t.put("model.norm.weight", ones(hidden));
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", ones(hidden));
            t.put(p + "post_attention_layernorm.weight", ones(hidden));
            t.put(p + "self_attn.q_proj.weight", random(base, jitter, noise, hidden, hidden));
            t.put(p + "self_attn.k_proj.weight", random(base, jitter, noise, kv, hidden));
            t.put(p + "self_attn.v_proj.weight", random(base, jitter, noise, kv, hidden));
            t.put(p + "self_attn.o_proj.weight", random(base, jitter, noise, hidden, hidden));
            t.put(p + "mlp.gate_proj.weight", random(base, jitter, noise, ffn, hidden));
            t.put(p + "mlp.up_proj.weight", random(base, jitter, noise, ffn, hidden));
            t.put(p + "mlp.down_proj.weight", random(base, jitter, noise, hidden, ffn));
        }
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        StringBuilder vocab = new StringBuilder("\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2");
        for (int i = 3; i < VOCAB; i++) {
            vocab.append(", \"w").append(i).append("\": ").append(i);
        }
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [
                  {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "<unk>"}}""".formatted(vocab));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": true,
                 "chat_template": "{% for m in messages %}{{ bos_token }}{{ m['content'] }}{% endfor %}"}""");
        return dir;
    }

    /** {@code n} lines of random words of the tiny vocabulary, one calibration sample each. */
    public static Path writeCalibration(Path file, int n, int words, long seed) throws IOException {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < words; j++) {
                sb.append(j == 0 ? "" : " ").append('w').append(3 + r.nextInt(VOCAB - 3));
            }
            sb.append('\n');
        }
        return Files.writeString(file, sb.toString());
    }

    static HostTensor random(Random base, Random jitter, float noise, int out, int in) {
        float[] v = new float[out * in];
        float scale = (float) (1.0 / Math.sqrt(in));
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) base.nextGaussian() * scale + noise * (float) jitter.nextGaussian();
        }
        return HostTensor.ofFloats(v, out, in);
    }

    static HostTensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return HostTensor.ofFloats(v, n);
    }
}
