package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Loads a GGUF file back as Hugging Face tensors: every tensor dequantized to float32 under its HF name
 * (llama q/k rows permuted back), with a {@code config.json} synthesized from the GGUF metadata.
 */
public final class GgufInferenceBackend implements InferenceBackend {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.INFERENCE, "gguf", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "reads GGUF files (llama, qwen2, qwen3) as dequantized Hugging Face weights",
                Map.of("reads", reads()));
    }

    @Override
    public List<String> reads() {
        return List.of("gguf");
    }

    @Override
    public boolean canLoad(Path path) {
        return resolve(path) != null;
    }

    /**
     * The GGUF file at {@code path}, or the single {@code *.gguf} in a directory; null if none. A file named
     * {@code .gguf} is claimed even with a bad header, so that opening it says what is wrong with it.
     */
    static Path resolve(Path path) {
        if (Files.isRegularFile(path)) {
            return GgufFile.looksLikeGguf(path) || isGgufName(path) ? path : null;
        }
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                List<Path> g = s.filter(p -> isGgufName(p) && Files.isRegularFile(p)).toList();
                return g.size() == 1 ? g.get(0) : null;
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    private static boolean isGgufName(Path p) {
        return p.getFileName() != null && p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf");
    }

    @Override
    public boolean inspect(Path path, PrintWriter out, int maxArrayItems) {
        Path file = resolve(path);
        if (file == null) {
            return false;
        }
        try (GgufFile f = GgufFile.open(file)) {
            GgufInspector.print(f, out, maxArrayItems);
        }
        return true;
    }

    @Override
    public LoadedCheckpoint load(Path path) {
        Path file = resolve(path);
        if (file == null) {
            throw new InvalidInputException(path + " is not a GGUF file", "give a .gguf file or a directory holding one");
        }
        GgufFile f = GgufFile.open(file);
        try {
            ModelConfig cfg = configOf(f, file.toAbsolutePath().getParent());
            checkShapes(f, cfg);
            String desc = "GGUF " + f.getString("general.name", file.getFileName().toString()) + " (file type "
                    + f.getLong("general.file_type", -1) + ", " + f.tensors().size() + " tensors)";
            return new LoadedCheckpoint(cfg, new GgufTensorStore(f, cfg), desc);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** A HF-style config synthesized from the GGUF hyper-parameters and tokenizer ids. */
    public static ModelConfig configOf(GgufFile f, Path dir) {
        String arch = f.getString("general.architecture", "");
        String modelType;
        String hfClass;
        switch (arch) {
            case "llama" -> { modelType = "llama"; hfClass = "LlamaForCausalLM"; }
            case "qwen2" -> { modelType = "qwen2"; hfClass = "Qwen2ForCausalLM"; }
            case "qwen3" -> { modelType = "qwen3"; hfClass = "Qwen3ForCausalLM"; }
            default -> throw new dev.jround.spi.UnsupportedFeatureException("GGUF architecture '" + arch + "' in " + f.path()
                    + " is not supported", "jround loads llama, qwen2 and qwen3 GGUF files");
        }
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(hfClass);
        c.put("model_type", modelType);
        // the hyper-parameters every architecture divides by: refused here, not as an arithmetic error later
        long hidden = positive(f, arch + ".embedding_length", null);
        long heads = positive(f, arch + ".attention.head_count", null);
        long kvHeads = positive(f, arch + ".attention.head_count_kv", heads);
        long layers = positive(f, arch + ".block_count", null);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", positive(f, arch + ".feed_forward_length", null));
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        if (heads % kvHeads != 0) {
            throw corrupt(f, arch + ".attention.head_count " + heads + " is not a multiple of " + arch
                    + ".attention.head_count_kv " + kvHeads);
        }
        if (f.get(arch + ".attention.key_length") != null) {
            c.put("head_dim", positive(f, arch + ".attention.key_length", null));
        } else if (hidden % heads != 0) {
            throw corrupt(f, arch + ".embedding_length " + hidden + " is not a multiple of " + arch + ".attention.head_count " + heads);
        }
        c.put("max_position_embeddings", f.getLong(arch + ".context_length", 2048));
        c.put("rms_norm_eps", (double) (float) f.getDouble(arch + ".attention.layer_norm_rms_epsilon", 1e-6));
        c.put("rope_theta", (double) (float) f.getDouble(arch + ".rope.freq_base", 10000));
        GgufValue tokens = f.get("tokenizer.ggml.tokens");
        if (tokens != null && tokens.type() != GgufValueType.ARRAY) {
            throw corrupt(f, "tokenizer.ggml.tokens is a " + tokens.typeName() + ", expected an array of strings");
        }
        long vocab = tokens != null ? tokens.list().size()
                : f.hasTensor("token_embd.weight") ? f.tensor("token_embd.weight").ne()[1] : 0;
        c.put("vocab_size", vocab);
        c.put("tie_word_embeddings", !f.hasTensor("output.weight"));
        c.put("hidden_act", "silu");
        c.put("attention_bias", f.hasTensor("blk.0.attn_q.bias"));
        c.put("torch_dtype", "float32");
        c.put("dtype", "float32");
        if (f.get("tokenizer.ggml.bos_token_id") != null) {
            c.put("bos_token_id", f.getLong("tokenizer.ggml.bos_token_id", 0));
        }
        if (f.get("tokenizer.ggml.eos_token_id") != null) {
            c.put("eos_token_id", f.getLong("tokenizer.ggml.eos_token_id", 0));
        }
        if (f.get("tokenizer.ggml.padding_token_id") != null) {
            c.put("pad_token_id", f.getLong("tokenizer.ggml.padding_token_id", 0));
        }
        String scaling = f.getString(arch + ".rope.scaling.type", null);
        if (scaling != null) {
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("rope_type", scaling);
            rs.put("factor", f.getDouble(arch + ".rope.scaling.factor", 1.0));
        }
        return ConfigJson.config(dir, c);
    }

    /**
     * The tensor table agrees with the hyper-parameters: as many {@code blk.N} blocks as {@code block_count}, and
     * the projections sized by the head counts and widths. Otherwise a model would run with layers missing or
     * fail inside the engine with a shape error.
     */
    static void checkShapes(GgufFile f, ModelConfig cfg) {
        String arch = f.getString("general.architecture", "");
        long hidden = cfg.requireInt("hidden_size");
        long heads = cfg.requireInt("num_attention_heads");
        long kv = cfg.requireInt("num_key_value_heads");
        long headDim = cfg.getInt("head_dim", (int) (hidden / heads));
        long ff = cfg.requireInt("intermediate_size");
        long blocks = cfg.requireInt("num_hidden_layers");
        java.util.Set<Long> seen = new java.util.TreeSet<>();
        String h = arch + ".embedding_length";
        String q = arch + ".attention.head_count x " + arch + ".attention.key_length";
        String k = arch + ".attention.head_count_kv x " + arch + ".attention.key_length";
        String fl = arch + ".feed_forward_length";
        for (GgufTensorInfo t : f.tensors()) {
            String n = t.name();
            if (n.startsWith("blk.")) {
                int dot = n.indexOf('.', 4);
                String idx = dot < 0 ? "" : n.substring(4, dot);
                if (idx.isEmpty() || !idx.chars().allMatch(Character::isDigit) || idx.length() > 9 || Long.parseLong(idx) >= blocks) {
                    throw corrupt(f, "tensor " + n + " is outside the " + blocks + " blocks of " + arch + ".block_count");
                }
                seen.add(Long.parseLong(idx));
            }
            String role = n.startsWith("blk.") ? n.substring(n.indexOf('.', 4) + 1) : n;
            switch (role) {
                case "token_embd.weight", "output.weight" -> expect(f, t, 0, hidden, h);
                case "attn_norm.weight", "ffn_norm.weight", "output_norm.weight" -> expect(f, t, 0, hidden, h);
                case "attn_q.weight" -> { expect(f, t, 0, hidden, h); expect(f, t, 1, heads * headDim, q); }
                case "attn_k.weight", "attn_v.weight" -> { expect(f, t, 0, hidden, h); expect(f, t, 1, kv * headDim, k); }
                case "attn_output.weight" -> { expect(f, t, 0, heads * headDim, q); expect(f, t, 1, hidden, h); }
                case "ffn_gate.weight", "ffn_up.weight" -> { expect(f, t, 0, hidden, h); expect(f, t, 1, ff, fl); }
                case "ffn_down.weight" -> { expect(f, t, 0, ff, fl); expect(f, t, 1, hidden, h); }
                default -> { }
            }
        }
        if (seen.size() != blocks) {
            throw corrupt(f, arch + ".block_count is " + blocks + " but the file has tensors for " + seen.size() + " blocks");
        }
    }

    private static void expect(GgufFile f, GgufTensorInfo t, int dim, long want, String key) {
        if (t.ne().length <= dim || t.ne()[dim] != want) {
            throw corrupt(f, "tensor " + t.name() + " has ne " + java.util.Arrays.toString(t.ne()) + " but " + key + " gives "
                    + want + " for ne[" + dim + "]");
        }
    }

    /** An integer metadata value that must be present (or default to {@code dflt}) and positive. */
    private static long positive(GgufFile f, String key, Long dflt) {
        GgufValue v = f.get(key);
        if (v == null && dflt != null) {
            return dflt;
        }
        if (v == null || !(v.value() instanceof Long n) || n <= 0 || n > Integer.MAX_VALUE) {
            throw corrupt(f, (v == null ? "metadata key " + key + " is missing"
                    : "metadata key " + key + " is " + v.typeName() + " " + GgufInspector.render(v, 4)) + ", expected a positive integer");
        }
        return n;
    }

    private static dev.jround.spi.CorruptInputException corrupt(GgufFile f, String what) {
        return new dev.jround.spi.CorruptInputException(f.path() + ": " + what,
                "the GGUF metadata does not describe a loadable model; inspect it with 'jround inspect'");
    }

    /** Dequantized, HF-named view of a GGUF file; tensors are decoded on access. */
    static final class GgufTensorStore implements TensorStore {
        private final GgufFile file;
        private final boolean llama;
        private final int heads;
        private final int kvHeads;
        private final Map<String, GgufTensorInfo> byHf = new LinkedHashMap<>();

        GgufTensorStore(GgufFile file, ModelConfig cfg) {
            this.file = file;
            this.llama = cfg.modelType().equals("llama");
            this.heads = cfg.requireInt("num_attention_heads");
            this.kvHeads = cfg.getInt("num_key_value_heads", heads);
            for (GgufTensorInfo t : file.tensors()) {
                String hf = GgufNames.toHf(t.name());
                if (hf != null) {
                    byHf.put(hf, t);
                }
            }
        }

        @Override
        public Collection<String> names() {
            return new ArrayList<>(byHf.keySet());
        }

        @Override
        public Optional<TensorInfo> info(String name) {
            GgufTensorInfo t = byHf.get(name);
            return t == null ? Optional.empty() : Optional.of(new TensorInfo(name, DType.F32, t.torchShape()));
        }

        @Override
        public HostTensor get(String name) {
            GgufTensorInfo t = byHf.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no tensor named " + name + " in " + file.path());
            }
            float[] v = file.dequantize(t);
            int ph = !llama ? 0 : t.name().startsWith("blk.") && (t.name().endsWith("attn_q.weight") || t.name().endsWith("attn_q.bias"))
                    ? heads : t.name().endsWith("attn_k.weight") || t.name().endsWith("attn_k.bias") ? kvHeads : 0;
            if (ph > 0) {
                int cols = t.ne().length == 1 ? 1 : (int) t.ne()[0];
                if (v.length / cols % (2L * ph) != 0) {
                    throw new dev.jround.spi.CorruptInputException(file.path() + ": tensor " + t.name() + " has " + v.length / cols
                            + " rows, which " + ph + " attention heads (llama.attention.head_count" + (ph == heads ? "" : "_kv")
                            + ") cannot split into rotary halves", "the GGUF metadata and tensors disagree; export the file again");
                }
                v = GgufNames.unpermuteForLlama(v, v.length / cols, cols, ph);
            }
            return HostTensor.ofFloats(v, t.torchShape());
        }

        @Override
        public void close() {
            file.close();
        }
    }
}
