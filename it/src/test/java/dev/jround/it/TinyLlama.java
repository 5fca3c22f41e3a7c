package dev.jround.it;

import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Small random Llama checkpoints in Hugging Face layout (config.json, model.safetensors, a word-level tokenizer whose
 * words are {@code w3 .. w<vocab-1>}), for tests that must not need ../shared.
 *
 * @param hidden       hidden size (also the head count times 8)
 * @param intermediate MLP width
 * @param layers       decoder blocks
 * @param vocab        vocabulary size (ids 0-2 are unk, bos, eos)
 * @param heads        attention heads; key/value heads are half of them (GQA)
 */
public record TinyLlama(int hidden, int intermediate, int layers, int vocab, int heads) {

    /** 2 blocks 16 wide (nothing divisible by 32, so quantization keeps every layer at full precision). */
    public static final TinyLlama NARROW = new TinyLlama(16, 24, 2, 32, 2);
    /** 2 blocks 64 wide: every linear layer is quantizable with group size 32. */
    public static final TinyLlama SMALL = new TinyLlama(64, 128, 2, 64, 4);

    /** Writes the checkpoint into {@code dir} (created); {@code noise} perturbs the seeded weights. */
    public Path write(Path dir, float noise) throws IOException {
        return write(dir, noise, true);
    }

    /** As {@link #write(Path, float)}; {@code tied = false} adds its own {@code lm_head.weight}. */
    public Path write(Path dir, float noise, boolean tied) throws IOException {
        Files.createDirectories(dir);
        int kvHeads = Math.max(1, heads / 2);
        int headDim = hidden / heads;
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": %d, "intermediate_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": %d,
                 "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": %s,
                 "bos_token_id": 1, "eos_token_id": 2}""".formatted(hidden, intermediate, layers, heads, kvHeads, vocab, tied));
        Map<String, HostTensor> t = new LinkedHashMap<>();
        Random base = new Random(11);
        Random jitter = new Random(12);
        t.put("model.embed_tokens.weight", random(base, jitter, noise, vocab, hidden));
        t.put("model.norm.weight", ones(hidden));
        if (!tied) {
            t.put("lm_head.weight", random(new Random(13), jitter, noise, vocab, hidden));
        }
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", ones(hidden));
            t.put(p + "post_attention_layernorm.weight", ones(hidden));
            t.put(p + "self_attn.q_proj.weight", random(base, jitter, noise, hidden, hidden));
            t.put(p + "self_attn.k_proj.weight", random(base, jitter, noise, kvHeads * headDim, hidden));
            t.put(p + "self_attn.v_proj.weight", random(base, jitter, noise, kvHeads * headDim, hidden));
            t.put(p + "self_attn.o_proj.weight", random(base, jitter, noise, hidden, hidden));
            t.put(p + "mlp.gate_proj.weight", random(base, jitter, noise, intermediate, hidden));
            t.put(p + "mlp.up_proj.weight", random(base, jitter, noise, intermediate, hidden));
            t.put(p + "mlp.down_proj.weight", random(base, jitter, noise, hidden, intermediate));
        }
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        StringBuilder words = new StringBuilder("\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2");
        for (int i = 3; i < vocab; i++) {
            words.append(", \"w").append(i).append("\": ").append(i);
        }
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [
                  {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "<unk>"}}""".formatted(words));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": true,
                 "chat_template": "{% for m in messages %}{{ bos_token }}{{ m['content'] }}{% endfor %}"}""");
        return dir;
    }

    /** 2 blocks of the given widths, 2 heads, vocabulary 32. */
    public static TinyLlama of(int hidden, int intermediate) {
        return new TinyLlama(hidden, intermediate, 2, 32, 2);
    }

    /**
     * A calibration file of {@code rows} texts of {@code words} random words each: JSON lines with a "text" field,
     * or plain lines when the name ends in .txt.
     */
    public Path writeCalibration(Path file, int rows, int words, long seed) throws IOException {
        boolean plain = file.getFileName().toString().endsWith(".txt");
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append('w').append(3 + r.nextInt(vocab - 3));
            }
            sb.append(plain ? text + "\n" : "{\"text\": \"" + text + "\"}\n");
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

    public static HostTensor ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return HostTensor.ofFloats(v, n);
    }
}
