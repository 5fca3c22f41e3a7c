package dev.jround.spi.quant;

/**
 * Hyper-parameters of the block algorithms, with AutoRound's defaults (see docs/algorithms.md).
 *
 * @param iters                   optimisation steps per block (0 = RTN family)
 * @param lr                      rounding learning rate, {@code null} = auto (1/iters, 2/iters for <=3 bits when iters>=1000)
 * @param minmaxLr                min/max scale learning rate, {@code null} = same rule as lr
 * @param batchSize               mini-batch size
 * @param gradientAccumulateSteps mini-batches per optimizer step
 * @param enableMinmaxTuning      tune alpha/beta
 * @param notUseBestMse           use the last evaluated parameters instead of the best
 * @param dynamicMaxGap           early stop after this many iterations without improvement (-1 off)
 * @param momentum                sign-SGD momentum
 * @param enableQuantedInput      feed quantized block outputs forward
 * @param disableOptRtn           plain RTN instead of the importance-weighted search (iters == 0)
 * @param seed                    the one seed every random choice derives from
 */
public record TuningOptions(int iters, Double lr, Double minmaxLr, int batchSize, int gradientAccumulateSteps,
                            boolean enableMinmaxTuning, boolean notUseBestMse, int dynamicMaxGap, double momentum,
                            boolean enableQuantedInput, boolean disableOptRtn, long seed) {

    public static TuningOptions defaults() {
        return new TuningOptions(200, null, null, 8, 1, true, false, -1, 0.0, true, false, 42L);
    }

    public TuningOptions withIters(int i) {
        return new TuningOptions(i, lr, minmaxLr, batchSize, gradientAccumulateSteps, enableMinmaxTuning, notUseBestMse,
                dynamicMaxGap, momentum, enableQuantedInput, disableOptRtn, seed);
    }

    /** AutoRound's rounding learning rate for a layer of {@code bits}. */
    public double lrFor(int bits) {
        if (lr != null) {
            return lr;
        }
        int n = Math.max(iters, 1);
        return (n >= 1000 && bits <= 3) ? 2.0 / n : 1.0 / n;
    }

    public double minmaxLrFor(int bits) {
        return minmaxLr != null ? minmaxLr : lrFor(bits);
    }
}
