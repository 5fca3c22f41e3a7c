package dev.jround.kernel.model;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Checks that a full-precision checkpoint is what its config.json says, before any work: the standard Hugging Face
 * size keys are sane, every linear layer the architecture expects exists with the expected shape, and (for
 * quantization) no weight holds NaN or infinity. Without these a bad config fails deep inside the run (a missing
 * block after minutes of calibration) or, worse, quantizes into a checkpoint that no reader can use.
 */
public final class CheckpointAudit {

    /** Size keys that, when present, must be positive integers (names used by transformers' configs). */
    static final List<String> POSITIVE_INTS = List.of("hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "vocab_size", "max_position_embeddings", "head_dim", "ffn_dim",
            "word_embed_proj_dim");
    /** Keys that, when present, must be finite and non-negative. */
    static final List<String> NON_NEGATIVE = List.of("rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon");
    /** Far above any real model (the largest have a few hundred blocks); keeps a corrupt count from allocating. */
    static final int MAX_LAYERS = 100_000;

    private CheckpointAudit() {
    }

    /** The config's own consistency: types and ranges of the size keys, head counts that divide. */
    public static void config(ModelConfig c) {
        String file = c.directory() == null ? "config.json" : c.directory().resolve("config.json").toString();
        if (c.modelType().isBlank()) {
            throw new InvalidInputException(file + " has no model_type",
                    "a Hugging Face config.json names its model_type (docs/models.md lists the supported types; 'jround plugins' the installed architectures)");
        }
        for (String k : POSITIVE_INTS) {
            JsonNode v = c.value(k).map(ConfigJson::node).orElse(null);
            if (v == null || v.isNull()) {
                continue;
            }
            if (!v.isIntegralNumber() || v.asLong() <= 0 || !v.canConvertToInt()) {
                throw new InvalidInputException(file + ": " + k + " is " + v + ", not a positive integer",
                        "fix config.json: " + k + " must be a positive integer matching the checkpoint's tensors");
            }
        }
        int layers = c.getInt("num_hidden_layers", 1);
        if (layers > MAX_LAYERS) {
            throw new InvalidInputException(file + ": num_hidden_layers " + layers + " is not a plausible layer count",
                    "set num_hidden_layers to the number of blocks in the checkpoint");
        }
        for (String k : NON_NEGATIVE) {
            JsonNode v = c.value(k).map(ConfigJson::node).orElse(null);
            if (v != null && !v.isNull() && (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0)) {
                throw new InvalidInputException(file + ": " + k + " is " + v + ", not a finite number >= 0",
                        "fix config.json: " + k + " is a small positive epsilon such as 1e-05");
            }
        }
        JsonNode theta = c.value("rope_theta").map(ConfigJson::node).orElse(null);
        if (theta != null && !theta.isNull() && (!theta.isNumber() || !(theta.asDouble() > 0) || Double.isInfinite(theta.asDouble()))) {
            throw new InvalidInputException(file + ": rope_theta is " + theta + ", not a positive number", "fix config.json, e.g. rope_theta 10000.0");
        }
        int heads = c.getInt("num_attention_heads", 0);
        int kv = c.getInt("num_key_value_heads", heads);
        if (heads > 0 && kv > 0 && heads % kv != 0) {
            throw new InvalidInputException(file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv,
                    "fix config.json: every key/value head serves the same number of query heads");
        }
        int hidden = c.getInt("hidden_size", 0);
        if (heads > 0 && hidden > 0 && !c.has("head_dim") && hidden % heads != 0) {
            throw new InvalidInputException(file + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads,
                    "fix config.json, or give head_dim explicitly");
        }
    }

    /** Every linear layer of every block (and an untied lm_head, and the embeddings) exists with the shape the config implies. */
    public static void shapes(CausalLM lm, TensorStore weights, ModelConfig c) {
        String file = c.directory() == null ? "config.json" : c.directory().resolve("config.json").toString();
        for (int b = 0; b < lm.numBlocks(); b++) {
            for (LinearInfo li : lm.blockLinears(b)) {
                expect(weights, li.weightName(), new long[]{li.outFeatures(), li.inFeatures()}, file, b, lm.numBlocks());
            }
        }
        if (!lm.tiedEmbeddings()) {
            LinearInfo head = lm.lmHead();
            expect(weights, head.weightName(), new long[]{head.outFeatures(), head.inFeatures()}, file, -1, lm.numBlocks());
        }
        Optional<TensorInfo> emb = weights.info(lm.embeddingWeightName());
        if (emb.isPresent() && (emb.get().shape().length != 2 || emb.get().shape()[0] != lm.vocabSize())) {
            throw new InvalidInputException(file + " says vocab_size " + lm.vocabSize() + " but " + lm.embeddingWeightName()
                    + " has shape " + Arrays.toString(emb.get().shape()), "fix vocab_size in config.json to the embedding's row count");
        }
    }

    private static void expect(TensorStore weights, String name, long[] shape, String file, int block, int blocks) {
        Optional<TensorInfo> info = weights.info(name);
        if (info.isEmpty()) {
            String why = block >= 0 ? " (block " + block + " of the " + blocks + " that num_hidden_layers declares)" : "";
            throw new InvalidInputException("the checkpoint has no tensor " + name + why,
                    "config.json (" + file + ") does not match the weights: check num_hidden_layers and the layer sizes");
        }
        if (!Arrays.equals(info.get().shape(), shape)) {
            throw new InvalidInputException(name + " has shape " + Arrays.toString(info.get().shape()) + " but " + file
                    + " implies " + Arrays.toString(shape), "fix hidden_size / intermediate_size / head counts in config.json to match the weights");
        }
    }

    /** Refuses the first floating-point tensor that holds NaN or infinity, naming it and the first bad index. */
    public static void finite(TensorStore weights) {
        for (String name : weights.names()) {
            Optional<TensorInfo> info = weights.info(name);
            if (info.isEmpty() || !isFloat(info.get().dtype())) {
                continue;
            }
            HostTensor t = weights.get(name);
            long bad = firstNonFinite(t);
            if (bad >= 0) {
                throw new CorruptInputException("tensor " + name + " holds NaN or infinity (element " + bad + ")",
                        "quantizing it would write NaN or infinite scales; fix or re-export the checkpoint");
            }
        }
    }

    static boolean isFloat(DType d) {
        return d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.F64;
    }

    /** Index of the first NaN/Inf element, or -1. Reads the raw bits, so no float copy of the tensor is made. */
    static long firstNonFinite(HostTensor t) {
        ByteBuffer b = t.data();
        int p = b.position();
        long n = t.numel();
        switch (t.dtype()) {
            case F32 -> {
                for (long i = 0; i < n; i++) {
                    if ((b.getInt(p + (int) (4 * i)) & 0x7F80_0000) == 0x7F80_0000) {
                        return i;
                    }
                }
            }
            case F16 -> {
                for (long i = 0; i < n; i++) {
                    if ((b.getShort(p + (int) (2 * i)) & 0x7C00) == 0x7C00) {
                        return i;
                    }
                }
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) {
                    if ((b.getShort(p + (int) (2 * i)) & 0x7F80) == 0x7F80) {
                        return i;
                    }
                }
            }
            case F64 -> {
                for (long i = 0; i < n; i++) {
                    if (!Double.isFinite(b.getDouble(p + (int) (8 * i)))) {
                        return i;
                    }
                }
            }
            default -> {
            }
        }
        return -1;
    }
}
