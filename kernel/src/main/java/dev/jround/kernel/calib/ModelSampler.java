package dev.jround.kernel.calib;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Self-generated calibration data: plain multinomial sampling from the full-precision model, all sequences
 * of a call advanced together as one batch, starting from BOS. Every step re-runs the whole prefix (no
 * key/value cache); that is quadratic in the length but needs nothing from the architecture beyond
 * {@link CausalLM#logits}. The same seed gives the same sequences.
 */
public final class ModelSampler implements DatasetContext.TextSampler {

    /** Sequences advanced per forward pass, to bound memory for larger models. */
    private static final int BATCH = 16;

    private final CausalLM lm;
    private final NDManager manager;
    private final long bosId;

    /**
     * @param manager parent manager for the temporary arrays of each step
     * @param bosId   first token of every sequence
     */
    public ModelSampler(CausalLM lm, NDManager manager, long bosId) {
        this.lm = lm;
        this.manager = manager;
        this.bosId = bosId;
    }

    @Override
    public List<long[]> sample(int count, int length, long seed, double temperature) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be positive: " + temperature);
        }
        int len = Math.min(length, lm.maxPositions());
        SplittableRandom random = new SplittableRandom(seed);
        List<long[]> out = new ArrayList<>(count);
        for (int start = 0; start < count; start += BATCH) {
            int b = Math.min(BATCH, count - start);
            long[][] seqs = new long[b][len];
            for (long[] s : seqs) {
                s[0] = bosId;
            }
            for (int t = 1; t < len; t++) {
                float[] last;
                int vocab;
                try (NDManager m = manager.newSubManager()) {
                    long[] flat = new long[b * t];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(seqs[i], 0, flat, i * t, t);
                    }
                    NDArray logits = lm.logits(m, m.create(flat, new Shape(b, t)), BlockInputs.NONE);
                    vocab = (int) logits.getShape().get(2);
                    last = logits.get(":, -1, :").toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                }
                for (int i = 0; i < b; i++) {
                    seqs[i][t] = draw(last, i * vocab, vocab, temperature, random);
                }
            }
            out.addAll(Arrays.asList(seqs));
        }
        return out;
    }

    /** Softmax of logits / temperature over {@code [from, from+n)}, then one inverse-CDF draw. */
    static int draw(float[] logits, int from, int n, double temperature, SplittableRandom random) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            max = Math.max(max, logits[from + k] / temperature);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            p[k] = Math.exp(logits[from + k] / temperature - max);
            sum += p[k];
        }
        double u = random.nextDouble() * sum;
        double acc = 0;
        for (int k = 0; k < n; k++) {
            acc += p[k];
            if (u < acc) {
                return k;
            }
        }
        return n - 1;
    }
}
