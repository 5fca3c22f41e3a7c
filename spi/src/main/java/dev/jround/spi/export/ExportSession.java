package dev.jround.spi.export;

import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;

/**
 * One export in progress. The kernel calls {@link #addQuantized} as blocks finish, {@link #addTensor}
 * for every checkpoint tensor that stays in floating point (norms, embeddings, skipped layers), then
 * {@link #finish}. On failure it calls {@link #abort}.
 */
public interface ExportSession extends AutoCloseable {

    void addQuantized(QuantizedLayer layer);

    /** A tensor kept as it is (under its checkpoint name, in the source dtype unless the format says otherwise). */
    void addTensor(String name, HostTensor tensor);

    /** Writes configs, indexes and remaining files. */
    void finish();

    default void abort() {
    }

    @Override
    default void close() {
    }

    /**
     * Every quantized layer of decoder block {@code block} has been passed to {@link #addQuantized}; called once per
     * block, in block order, before {@link #finish}. Lets a format combine a block's layers (e.g. merge the experts
     * of a mixture into one tensor) without holding the whole model. Tensors the run keeps in floating point,
     * including the block's norms and biases, still arrive later through {@link #addTensor}.
     */
    default void blockFinished(int block) {
    }
}
