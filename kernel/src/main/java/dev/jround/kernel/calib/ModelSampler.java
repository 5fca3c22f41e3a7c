package dev.jround.kernel.calib;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Self-generated calibration data ({@code --dataset self:...}): seeded ancestral sampling from the full-precision
 * model (temperature scaling, plain multinomial), sequences starting with BOS. The one sampler of the kernel, so
 * {@code jround dataset} shows the samples {@code quantize} calibrates on. The same seed gives the same sequences.
 */
public final class ModelSampler implements DatasetContext.TextSampler {

    /** Sequences advanced per forward pass: without a key/value cache every step re-runs the prefix, so batch widely. */
    private static final int BATCH = 32;

    private final CausalLM lm;
    private final NDManager manager;
    private final long bosId;
    private final Consumer<String> progress;

    /**
     * @param manager  parent of the temporary arrays of each step (from the run's device backend)
     * @param bosId    first token of every sequence
     * @param progress receives one line per finished batch
     */
    public ModelSampler(CausalLM lm, NDManager manager, long bosId, Consumer<String> progress) {
        this.lm = lm;
        this.manager = manager;
        this.bosId = bosId;
        this.progress = progress == null ? line -> { } : progress;
    }

    @Override
    public List<long[]> sample(int count, int length, long seed, double temperature) {
        Random rng = new Random(seed);
        List<long[]> out = new ArrayList<>();
        for (int start = 0; start < count; start += BATCH) {
            int b = Math.min(BATCH, count - start);
            long[][] seqs = new long[b][length];
            for (long[] s : seqs) {
                s[0] = bosId;
            }
            for (int t = 1; t < length; t++) {
                try (NDManager m = manager.newSubManager()) {
                    long[] flat = new long[b * t];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(seqs[i], 0, flat, i * t, t);
                    }
                    NDArray h = lm.embed(m, m.create(flat, new Shape(b, t)));
                    for (int k = 0; k < lm.numBlocks(); k++) {
                        h = lm.blockForward(k, h, BlockInputs.NONE, Map.of());
                    }
                    // only the last position goes through the output projection: a full [batch, t, vocab] logits
                    // tensor would dwarf the model
                    NDArray last = lm.head(h.get(":, -1:, :"), null).reshape(b, -1).toType(DataType.FLOAT32, false);
                    float[] probs = last.div((float) Math.max(temperature, 1e-6)).softmax(-1).toFloatArray();
                    int v = probs.length / b;
                    for (int i = 0; i < b; i++) {
                        seqs[i][t] = draw(probs, i * v, v, rng.nextDouble());
                    }
                }
            }
            for (long[] s : seqs) {
                out.add(s);
            }
            progress.accept(String.format("self-generated calibration: %d/%d sequences", out.size(), count));
        }
        return out;
    }

    /** Inverse-CDF draw of {@code u} in [0, 1) from the probabilities {@code probs[from, from+n)}. */
    static int draw(float[] probs, int from, int n, double u) {
        double acc = 0;
        for (int k = 0; k < n; k++) {
            acc += probs[from + k];
            if (u < acc) {
                return k;
            }
        }
        return n - 1;
    }
}
