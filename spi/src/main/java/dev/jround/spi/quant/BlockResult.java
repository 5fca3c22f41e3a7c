package dev.jround.spi.quant;

import java.util.List;

/**
 * Output of one block. A final class with a builder rather than a record, so a minor SPI release can add
 * a field without breaking algorithms compiled against the previous one (see docs/plugins.md).
 *
 * <ul>
 * <li>{@code layers} the quantized layers, in the block's forward order</li>
 * <li>{@code lossBefore} block output MSE against the reference with the initial (RTN) weights, NaN if not measured</li>
 * <li>{@code lossAfter} the same with the chosen weights, NaN if not measured</li>
 * <li>{@code bestIter} iteration whose parameters were kept (-1 for RTN)</li>
 * </ul>
 */
public final class BlockResult {

    private final List<QuantizedLayer> layers;
    private final double lossBefore;
    private final double lossAfter;
    private final int bestIter;

    private BlockResult(Builder b) {
        layers = b.layers;
        lossBefore = b.lossBefore;
        lossAfter = b.lossAfter;
        bestIter = b.bestIter;
    }

    /** A builder with no layers, unmeasured losses and {@code bestIter = -1}. */
    public static Builder builder() {
        return new Builder();
    }

    public List<QuantizedLayer> layers() { return layers; }
    public double lossBefore() { return lossBefore; }
    public double lossAfter() { return lossAfter; }
    public int bestIter() { return bestIter; }

    @Override
    public String toString() {
        return "BlockResult[layers=" + layers + ", lossBefore=" + lossBefore + ", lossAfter=" + lossAfter
                + ", bestIter=" + bestIter + "]";
    }

    /** Builds a {@link BlockResult}. */
    public static final class Builder {
        private List<QuantizedLayer> layers = List.of();
        private double lossBefore = Double.NaN;
        private double lossAfter = Double.NaN;
        private int bestIter = -1;

        private Builder() {
        }

        public Builder layers(List<QuantizedLayer> v) { layers = v; return this; }
        public Builder lossBefore(double v) { lossBefore = v; return this; }
        public Builder lossAfter(double v) { lossAfter = v; return this; }
        public Builder bestIter(int v) { bestIter = v; return this; }

        public BlockResult build() {
            return new BlockResult(this);
        }
    }
}
