package dev.jround.it.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** An onnx export run through ONNX Runtime Java (CPU): full-sequence logits and greedy decoding with the cache. */
final class OnnxRunner implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final int layers;
    private final long kvHeads;
    private final long headDim;

    OnnxRunner(Path exportDir) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(1);
        session = env.createSession(exportDir.resolve("model.onnx").toString(), o);
        int n = 0;
        long kv = 0;
        long hd = 0;
        for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
            if (e.getKey().endsWith(".key")) {
                n++;
                long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
                kv = shape[1];
                hd = shape[3];
            }
        }
        layers = n;
        kvHeads = kv;
        headDim = hd;
    }

    /** Logits {@code [ids.length][vocab]} of one sequence run without a cache. */
    float[][] logits(long[] ids) throws OrtException {
        try (Step s = step(ids, 0, null)) {
            return s.logits;
        }
    }

    /** Greedy continuation of {@code n} tokens, one new token per run after the prompt, through the cache. */
    long[] greedy(long[] prompt, int n) throws OrtException {
        long[] out = new long[n];
        Step s = step(prompt, 0, null);
        try {
            int past = prompt.length;
            for (int i = 0; i < n; i++) {
                out[i] = argmax(s.logits[s.logits.length - 1]);
                if (i + 1 == n) {
                    break;
                }
                Step next = step(new long[]{out[i]}, past, s);
                s.close();
                s = next;
                past++;
            }
        } finally {
            s.close();
        }
        return out;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** One run's outputs: logits and the presents, kept open to feed the next run. */
    private static final class Step implements AutoCloseable {
        float[][] logits;
        OrtSession.Result result;

        @Override
        public void close() {
            if (result != null) {
                result.close();
            }
        }
    }

    private Step step(long[] ids, int past, Step prev) throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            long[] pos = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                pos[i] = past + i;
            }
            long[] mask = new long[past + ids.length];
            java.util.Arrays.fill(mask, 1);
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[]{1, ids.length}));
            in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[]{1, ids.length}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[]{1, mask.length}));
            Map<String, OnnxTensor> feeds = new HashMap<>(in);
            for (int l = 0; l < layers; l++) {
                for (String kind : new String[]{"key", "value"}) {
                    String name = "past_key_values." + l + "." + kind;
                    if (prev == null) {
                        OnnxTensor empty = OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[]{1, kvHeads, 0, headDim});
                        in.put(name, empty);
                        feeds.put(name, empty);
                    } else {
                        feeds.put(name, (OnnxTensor) prev.result.get("present." + l + "." + kind).orElseThrow());
                    }
                }
            }
            Step s = new Step();
            s.result = session.run(feeds);
            OnnxValue v = s.result.get("logits").orElseThrow();
            float[][][] l = (float[][][]) v.getValue();
            s.logits = l[0];
            return s;
        } finally {
            for (OnnxTensor t : in.values()) {
                t.close();
            }
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
