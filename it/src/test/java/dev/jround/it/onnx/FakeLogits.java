package dev.jround.it.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.model.BlockInputs;

import java.nio.file.Path;

/** A checkpoint (fp model or fake export) run by jround's own model code: logits and greedy decoding. */
final class FakeLogits implements AutoCloseable {

    private final LoadedModel model;

    FakeLogits(Path dir) {
        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry(FakeLogits.class.getClassLoader()), Path::of);
        model = loader.load(dir.toString(), DataType.FLOAT32);
    }

    float[][] logits(long[] ids) {
        try (NDManager m = model.device().newManager()) {
            NDArray out = model.lm().logits(m, m.create(ids, new Shape(1, ids.length)), BlockInputs.NONE);
            float[] flat = out.toType(DataType.FLOAT32, false).toFloatArray();
            int vocab = flat.length / ids.length;
            float[][] r = new float[ids.length][vocab];
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(flat, i * vocab, r[i], 0, vocab);
            }
            return r;
        }
    }

    /** Greedy continuation, each step a full forward of the sequence so far (no cache). */
    long[] greedy(long[] prompt, int n) {
        long[] seq = java.util.Arrays.copyOf(prompt, prompt.length + n);
        for (int i = 0; i < n; i++) {
            float[][] l = logits(java.util.Arrays.copyOf(seq, prompt.length + i));
            seq[prompt.length + i] = OnnxRunner.argmax(l[l.length - 1]);
        }
        return java.util.Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    /** Mean KL(reference || candidate) over positions, from logits, as the eval report defines it. */
    static double meanKld(float[][] reference, float[][] candidate) {
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            double[] p = logSoftmax(reference[i]);
            double[] q = logSoftmax(candidate[i]);
            double kl = 0;
            for (int v = 0; v < p.length; v++) {
                kl += Math.exp(p[v]) * (p[v] - q[v]);
            }
            sum += kl;
        }
        return sum / reference.length;
    }

    private static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : x) {
            s += Math.exp(v - max);
        }
        double lse = max + Math.log(s);
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i] - lse;
        }
        return r;
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }

    @Override
    public void close() {
        model.close();
    }
}
