package dev.jround.kernel.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * Perplexity of a model over token sequences and, with a reference model, the distance of its next-token
 * distributions from the reference's on the same tokens: mean KL divergence {@code KL(P_ref || P_model)} (what
 * llama.cpp's {@code llama-perplexity --kl-divergence} reports as "Mean KLD"), top-1 agreement and the RMS change
 * of the observed token's probability. All log-softmax work runs on the device; only per-token values reach Java.
 */
public final class Evaluator {

    private final int batchSize;

    public Evaluator(int batchSize) {
        if (batchSize < 1) {
            throw new InvalidInputException("batch size " + batchSize + " is not positive", "use 1 or more");
        }
        this.batchSize = batchSize;
    }

    /**
     * @param reference  the model to compare against, or {@code null} for perplexity only
     * @param progress   called with the number of sequences done after each batch (may be {@code null})
     */
    public EvalReport evaluate(LoadedModel model, LoadedModel reference, List<long[]> sequences, String dataName,
                               IntConsumer progress) {
        if (sequences.isEmpty()) {
            throw new InvalidInputException("no sequences to evaluate", "give a data file with at least one sequence of 2+ tokens");
        }
        CausalLM lm = model.lm();
        CausalLM ref = reference == null ? null : reference.lm();
        if (ref != null && ref.vocabSize() != lm.vocabSize()) {
            throw new InvalidInputException("the reference has " + ref.vocabSize() + " vocabulary entries, the model "
                    + lm.vocabSize(), "compare checkpoints of the same model");
        }
        for (int i = 0; i < sequences.size(); i++) {
            long[] s = sequences.get(i);
            for (int j = 0; j < s.length; j++) {
                if (s[j] < 0 || s[j] >= lm.vocabSize()) {
                    throw new InvalidInputException(dataName + ": sequence " + i + " position " + j + ": token id " + s[j]
                            + " is outside the vocabulary (0.." + (lm.vocabSize() - 1) + ")", "the data was tokenized for another model");
                }
            }
        }
        long start = System.nanoTime();
        EvalStats stats = new EvalStats();
        int maxLen = 0;
        try (NDManager root = model.device().newManager()) {
            for (int b = 0; b < sequences.size(); b += batchSize) {
                List<long[]> batch = sequences.subList(b, Math.min(sequences.size(), b + batchSize));
                maxLen = Math.max(maxLen, batch.stream().mapToInt(r -> r.length).max().orElse(0));
                try (NDManager m = root.newSubManager()) {
                    scoreBatch(m, lm, ref, batch, stats);
                }
                if (progress != null) {
                    progress.accept(b + batch.size());
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return EvalReport.of(model.source().toString(), reference == null ? null : reference.source().toString(),
                dataName, sequences.size(), maxLen, stats, seconds);
    }

    private static void scoreBatch(NDManager m, CausalLM lm, CausalLM ref, List<long[]> batch, EvalStats stats) {
        int rows = batch.size();
        int len = batch.stream().mapToInt(r -> r.length).max().orElse(0);
        long[] ids = new long[rows * len];
        long[] mask = new long[rows * len];
        boolean padded = false;
        for (int r = 0; r < rows; r++) {
            long[] s = batch.get(r);
            System.arraycopy(s, 0, ids, r * len, s.length);
            for (int j = 0; j < len; j++) {
                mask[r * len + j] = j < s.length ? 1 : 0;
            }
            padded |= s.length < len;
        }
        NDArray input = m.create(ids, new Shape(rows, len));
        BlockInputs inputs = padded ? new BlockInputs(m.create(mask, new Shape(rows, len))) : BlockInputs.NONE;
        NDArray targets = input.get(":, 1:").expandDims(2);
        NDArray logp = logProbs(lm.logits(m, input, inputs));
        NDArray tokenLogp = logp.gather(targets, 2).squeeze(2);
        float[] nll = tokenLogp.neg().toFloatArray();
        if (ref == null) {
            stats.addNll(real(nll, batch, len));
            return;
        }
        NDArray refLogp = logProbs(ref.logits(m, input, inputs));
        NDArray refTokenLogp = refLogp.gather(targets, 2).squeeze(2);
        float[] kld = refLogp.exp().mul(refLogp.sub(logp)).sum(new int[]{2}).toFloatArray();
        float[] same = refLogp.argMax(2).eq(logp.argMax(2)).toType(DataType.FLOAT32, false).toFloatArray();
        float[] dp = tokenLogp.exp().sub(refTokenLogp.exp()).toFloatArray();
        float[] refNll = refTokenLogp.neg().toFloatArray();
        float[] sameReal = real(same, batch, len);
        boolean[] top1 = new boolean[sameReal.length];
        for (int i = 0; i < top1.length; i++) {
            top1[i] = sameReal[i] > 0.5f;
        }
        stats.addCompared(real(nll, batch, len), real(refNll, batch, len), real(kld, batch, len), top1, real(dp, batch, len));
    }

    /** Log-softmax (float32) of the logits at every position that predicts a next token. */
    private static NDArray logProbs(NDArray logits) {
        NDArray f = logits.getDataType() == DataType.FLOAT32 ? logits : logits.toType(DataType.FLOAT32, false);
        return f.get(":, :-1, :").logSoftmax(2);
    }

    /** Keeps the per-position values {@code [rows, len-1]} whose target token is real (not padding). */
    private static float[] real(float[] values, List<long[]> batch, int len) {
        int count = 0;
        for (long[] s : batch) {
            count += s.length - 1;
        }
        float[] out = new float[count];
        int k = 0;
        for (int r = 0; r < batch.size(); r++) {
            int n = batch.get(r).length - 1;
            System.arraycopy(values, r * (len - 1), out, k, n);
            k += n;
        }
        return out;
    }
}
