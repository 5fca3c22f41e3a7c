package dev.jround.spi.quant;

import java.util.List;

/**
 * Output of one block.
 *
 * @param layers     the quantized layers, in the block's forward order
 * @param lossBefore block output MSE against the reference with the initial (RTN) weights, NaN if not measured
 * @param lossAfter  the same with the chosen weights, NaN if not measured
 * @param bestIter   iteration whose parameters were kept (-1 for RTN)
 */
public record BlockResult(List<QuantizedLayer> layers, double lossBefore, double lossAfter, int bestIter) {
}
