package dev.jround.plugin.onnxruntime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An onnx export as a {@link CausalLM} that only computes logits: each sequence is one session run with an empty
 * key/value cache (zero-length {@code past_key_values.*}, attention mask of ones, positions 0..L-1), the inputs
 * the export's decoder graph takes (docs/formats.md, "onnx"). Block-level access needs weights the graph does not
 * expose, so those methods refuse.
 */
final class OrtCausalLM implements CausalLM {

    /** A past_key_values input: its name, element type and {@code [batch, kv_heads, 0, head_dim]} shape. */
    private record PastInput(String name, OnnxJavaType type, long[] emptyShape) {
    }

    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelConfig config;
    private final List<PastInput> past = new ArrayList<>();
    private final int vocab;

    private OrtCausalLM(OrtEnvironment env, OrtSession session, ModelConfig config) throws OrtException {
        this.env = env;
        this.session = session;
        this.config = config;
        for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
            if (e.getKey().startsWith("past_key_values.")) {
                TensorInfo t = (TensorInfo) e.getValue().getInfo();
                long[] shape = t.getShape();
                if (shape.length != 4) {
                    throw new CorruptInputException("onnx input " + e.getKey() + " has shape " + Arrays.toString(shape),
                            "a past_key_values input is [batch, kv_heads, past_length, head_dim]");
                }
                past.add(new PastInput(e.getKey(), t.type, new long[]{1, shape[1], 0, shape[3]}));
            }
        }
        for (String required : List.of("input_ids", "attention_mask", "position_ids")) {
            if (!session.getInputInfo().containsKey(required)) {
                throw new CorruptInputException("the onnx graph has no input " + required + " (inputs: "
                        + session.getInputInfo().keySet() + ")", "use a decoder exported by jround's onnx exporter");
            }
        }
        this.vocab = config.getInt("vocab_size", -1);
    }

    static OrtCausalLM open(Path modelFile, ModelConfig config) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = null;
        try {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            session = env.createSession(modelFile.toString(), o);
            return new OrtCausalLM(env, session, config);
        } catch (OrtException e) {
            closeQuietly(session);
            throw new CorruptInputException("ONNX Runtime cannot open " + modelFile + ": " + e.getMessage(),
                    "use a model.onnx written by jround's onnx exporter");
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    /**
     * Rows of {@code inputIds} run one by one, each cut to its real tokens (right padding, as the mask says); padded
     * positions get zero logits, which callers ignore.
     */
    @Override
    public NDArray logits(NDManager manager, NDArray inputIds, BlockInputs inputs) {
        long[] shape = inputIds.getShape().getShape();
        int rows = (int) shape[0];
        int len = (int) shape[1];
        long[] ids = inputIds.toType(DataType.INT64, false).toLongArray();
        long[] mask = inputs.attentionMask() == null ? null : inputs.attentionMask().toType(DataType.INT64, false).toLongArray();
        float[] out = null;
        int v = -1;
        for (int r = 0; r < rows; r++) {
            int real = len;
            if (mask != null) {
                real = 0;
                for (int j = 0; j < len; j++) {
                    real += mask[r * len + j] != 0 ? 1 : 0;
                }
            }
            float[] row = run(Arrays.copyOfRange(ids, r * len, r * len + real));
            if (out == null) {
                v = row.length / Math.max(real, 1);
                out = new float[rows * len * v];
            }
            System.arraycopy(row, 0, out, r * len * v, row.length);
        }
        return manager.create(out, new Shape(rows, len, v));
    }

    /** Logits {@code [len * vocab]} of one sequence, run with an empty cache. */
    private float[] run(long[] ids) {
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
            long[] pos = new long[ids.length];
            long[] ones = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                pos[i] = i;
                ones[i] = 1;
            }
            long[] shape = {1, ids.length};
            feeds.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            feeds.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape));
            feeds.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), shape));
            for (PastInput p : past) {
                feeds.put(p.name(), p.type() == OnnxJavaType.FLOAT
                        ? OnnxTensor.createTensor(env, FloatBuffer.allocate(0), p.emptyShape())
                        : OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0), p.emptyShape(), p.type()));
            }
            try (OrtSession.Result result = session.run(feeds, java.util.Set.of("logits"))) {
                OnnxTensor logits = (OnnxTensor) result.get("logits")
                        .orElseThrow(() -> new CorruptInputException("the onnx graph has no output logits", "use a decoder exported by jround's onnx exporter"));
                FloatBuffer fb = logits.getFloatBuffer();
                if (fb == null) {
                    throw new UnsupportedFeatureException("logits of type " + logits.getInfo().type + " cannot be read as floats",
                            "export the model in float32, float16 or bfloat16");
                }
                float[] f = new float[fb.remaining()];
                fb.get(f);
                return f;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a sequence of " + ids.length + " tokens: " + e.getMessage(), e);
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int hiddenSize() {
        return config.getInt("hidden_size", -1);
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxPositions() {
        return config.getInt("max_position_embeddings", Integer.MAX_VALUE);
    }

    @Override
    public DataType computeType() {
        return DataType.FLOAT32;
    }

    @Override
    public int numBlocks() {
        return past.size() / 2;
    }

    private static UnsupportedFeatureException noWeights(String what) {
        return new UnsupportedFeatureException("the onnx export run by onnxruntime computes logits only; " + what
                + " needs the model's weights, which the graph does not expose",
                "use the full-precision checkpoint or the fake export of the same run");
    }

    @Override
    public String blockName(int i) {
        throw noWeights("a block's name");
    }

    @Override
    public List<LinearInfo> blockLinears(int i) {
        throw noWeights("listing a block's linear layers");
    }

    @Override
    public LinearInfo lmHead() {
        throw noWeights("the lm_head");
    }

    @Override
    public boolean tiedEmbeddings() {
        throw noWeights("tied embeddings");
    }

    @Override
    public String embeddingWeightName() {
        throw noWeights("the embedding table");
    }

    @Override
    public NDArray embed(NDManager manager, NDArray inputIds) {
        throw noWeights("embedding tokens");
    }

    @Override
    public NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> linearWeights,
                                BiConsumer<String, NDArray> linearInputObserver) {
        throw noWeights("running one block");
    }

    @Override
    public NDArray linearWeight(NDManager manager, String name) {
        throw noWeights("a linear layer's weight");
    }

    @Override
    public NDArray linearBias(NDManager manager, String name) {
        throw noWeights("a linear layer's bias");
    }

    @Override
    public NDArray head(NDArray hidden, NDArray lmHeadWeight) {
        throw noWeights("the head alone");
    }

    @Override
    public void close() {
        closeQuietly(session);
    }

    private static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // nothing more to release
            }
        }
    }
}
