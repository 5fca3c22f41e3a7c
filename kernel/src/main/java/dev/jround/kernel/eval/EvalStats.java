package dev.jround.kernel.eval;

import java.util.Arrays;

/**
 * Running totals of the per-token measures. For each predicted token {@code t} (the model saw {@code x_<t}):
 * {@code nll = -log q(x_t)} of the candidate, and against a reference distribution {@code p}:
 * {@code kld = sum_v p_v (log p_v - log q_v)}, {@code top1 = [argmax p == argmax q]},
 * {@code dp = q(x_t) - p(x_t)}.
 */
public final class EvalStats {

    private long tokens;
    private double nllSum;
    private double refNllSum;
    private long compared;
    private double kldSum;
    private long top1Same;
    private double dpSquaredSum;
    private float[] klds = new float[1024];
    private int kldCount;

    /** Adds candidate-only tokens. */
    public void addNll(float[] nll) {
        for (float v : nll) {
            nllSum += v;
        }
        tokens += nll.length;
    }

    /** Adds tokens with reference measures; all arrays are per token and equally long. */
    public void addCompared(float[] nll, float[] refNll, float[] kld, boolean[] sameTop1, float[] dp) {
        addNll(nll);
        for (int i = 0; i < kld.length; i++) {
            refNllSum += refNll[i];
            kldSum += kld[i];
            top1Same += sameTop1[i] ? 1 : 0;
            dpSquaredSum += (double) dp[i] * dp[i];
            if (kldCount == klds.length) {
                klds = Arrays.copyOf(klds, klds.length * 2);
            }
            klds[kldCount++] = kld[i];
        }
        compared += kld.length;
    }

    public long tokens() {
        return tokens;
    }

    /** exp of the mean negative log-likelihood per predicted token. */
    public double perplexity() {
        return Math.exp(nllSum / tokens);
    }

    public boolean hasReference() {
        return compared > 0;
    }

    public double referencePerplexity() {
        return Math.exp(refNllSum / compared);
    }

    public double meanKld() {
        return kldSum / compared;
    }

    /** The {@code q}-quantile of the per-token KL divergences (nearest rank). */
    public double kldQuantile(double q) {
        float[] sorted = Arrays.copyOf(klds, kldCount);
        Arrays.sort(sorted);
        int idx = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
        return sorted[idx];
    }

    public double top1Agreement() {
        return (double) top1Same / compared;
    }

    /** Root mean square of the change in the probability of the observed next token. */
    public double rmsDeltaP() {
        return Math.sqrt(dpSquaredSum / compared);
    }
}
