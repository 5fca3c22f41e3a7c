package dev.jround.spi.quant;

import java.util.Objects;

/**
 * Hyper-parameters of the block algorithms, with AutoRound's defaults (see docs/algorithms.md).
 * A final class with a builder rather than a record, so a minor SPI release can add an option without
 * breaking plugins compiled against the previous one (see docs/plugins.md, "Compatibility promise").
 *
 * <ul>
 * <li>{@code iters} optimisation steps per block (0 = RTN family)</li>
 * <li>{@code lr} rounding learning rate, {@code null} = auto (1/iters, 2/iters for <=3 bits when iters>=1000)</li>
 * <li>{@code minmaxLr} min/max scale learning rate, {@code null} = same rule as lr</li>
 * <li>{@code batchSize} mini-batch size</li>
 * <li>{@code gradientAccumulateSteps} mini-batches per optimizer step</li>
 * <li>{@code enableMinmaxTuning} tune alpha/beta</li>
 * <li>{@code notUseBestMse} use the last evaluated parameters instead of the best</li>
 * <li>{@code dynamicMaxGap} early stop after this many iterations without improvement (-1 off)</li>
 * <li>{@code momentum} sign-SGD momentum</li>
 * <li>{@code enableQuantedInput} feed quantized block outputs forward</li>
 * <li>{@code disableOptRtn} plain RTN instead of the importance-weighted search (iters == 0)</li>
 * <li>{@code seed} the one seed every random choice derives from</li>
 * </ul>
 */
public final class TuningOptions {

    private final int iters;
    private final Double lr;
    private final Double minmaxLr;
    private final int batchSize;
    private final int gradientAccumulateSteps;
    private final boolean enableMinmaxTuning;
    private final boolean notUseBestMse;
    private final int dynamicMaxGap;
    private final double momentum;
    private final boolean enableQuantedInput;
    private final boolean disableOptRtn;
    private final long seed;

    private TuningOptions(Builder b) {
        iters = b.iters;
        lr = b.lr;
        minmaxLr = b.minmaxLr;
        batchSize = b.batchSize;
        gradientAccumulateSteps = b.gradientAccumulateSteps;
        enableMinmaxTuning = b.enableMinmaxTuning;
        notUseBestMse = b.notUseBestMse;
        dynamicMaxGap = b.dynamicMaxGap;
        momentum = b.momentum;
        enableQuantedInput = b.enableQuantedInput;
        disableOptRtn = b.disableOptRtn;
        seed = b.seed;
    }

    /** A builder starting from AutoRound's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    public static TuningOptions defaults() {
        return builder().build();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return builder().iters(iters).lr(lr).minmaxLr(minmaxLr).batchSize(batchSize)
                .gradientAccumulateSteps(gradientAccumulateSteps).enableMinmaxTuning(enableMinmaxTuning)
                .notUseBestMse(notUseBestMse).dynamicMaxGap(dynamicMaxGap).momentum(momentum)
                .enableQuantedInput(enableQuantedInput).disableOptRtn(disableOptRtn).seed(seed);
    }

    public TuningOptions withIters(int i) {
        return toBuilder().iters(i).build();
    }

    public int iters() { return iters; }
    public Double lr() { return lr; }
    public Double minmaxLr() { return minmaxLr; }
    public int batchSize() { return batchSize; }
    public int gradientAccumulateSteps() { return gradientAccumulateSteps; }
    public boolean enableMinmaxTuning() { return enableMinmaxTuning; }
    public boolean notUseBestMse() { return notUseBestMse; }
    public int dynamicMaxGap() { return dynamicMaxGap; }
    public double momentum() { return momentum; }
    public boolean enableQuantedInput() { return enableQuantedInput; }
    public boolean disableOptRtn() { return disableOptRtn; }
    public long seed() { return seed; }

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

    @Override
    public boolean equals(Object o) {
        return o instanceof TuningOptions t && iters == t.iters && Objects.equals(lr, t.lr)
                && Objects.equals(minmaxLr, t.minmaxLr) && batchSize == t.batchSize
                && gradientAccumulateSteps == t.gradientAccumulateSteps && enableMinmaxTuning == t.enableMinmaxTuning
                && notUseBestMse == t.notUseBestMse && dynamicMaxGap == t.dynamicMaxGap
                && Double.compare(momentum, t.momentum) == 0 && enableQuantedInput == t.enableQuantedInput
                && disableOptRtn == t.disableOptRtn && seed == t.seed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(iters, lr, minmaxLr, batchSize, gradientAccumulateSteps, enableMinmaxTuning, notUseBestMse,
                dynamicMaxGap, momentum, enableQuantedInput, disableOptRtn, seed);
    }

    @Override
    public String toString() {
        return "TuningOptions[iters=" + iters + ", lr=" + lr + ", minmaxLr=" + minmaxLr + ", batchSize=" + batchSize
                + ", gradientAccumulateSteps=" + gradientAccumulateSteps + ", enableMinmaxTuning=" + enableMinmaxTuning
                + ", notUseBestMse=" + notUseBestMse + ", dynamicMaxGap=" + dynamicMaxGap + ", momentum=" + momentum
                + ", enableQuantedInput=" + enableQuantedInput + ", disableOptRtn=" + disableOptRtn + ", seed=" + seed + "]";
    }

    /** Builds {@link TuningOptions}; every setter is optional and starts at AutoRound's default. */
    public static final class Builder {
        private int iters = 200;
        private Double lr;
        private Double minmaxLr;
        private int batchSize = 8;
        private int gradientAccumulateSteps = 1;
        private boolean enableMinmaxTuning = true;
        private boolean notUseBestMse;
        private int dynamicMaxGap = -1;
        private double momentum;
        private boolean enableQuantedInput = true;
        private boolean disableOptRtn;
        private long seed = 42L;

        private Builder() {
        }

        public Builder iters(int v) { iters = v; return this; }
        public Builder lr(Double v) { lr = v; return this; }
        public Builder minmaxLr(Double v) { minmaxLr = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradientAccumulateSteps(int v) { gradientAccumulateSteps = v; return this; }
        public Builder enableMinmaxTuning(boolean v) { enableMinmaxTuning = v; return this; }
        public Builder notUseBestMse(boolean v) { notUseBestMse = v; return this; }
        public Builder dynamicMaxGap(int v) { dynamicMaxGap = v; return this; }
        public Builder momentum(double v) { momentum = v; return this; }
        public Builder enableQuantedInput(boolean v) { enableQuantedInput = v; return this; }
        public Builder disableOptRtn(boolean v) { disableOptRtn = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public TuningOptions build() {
            return new TuningOptions(this);
        }
    }
}
