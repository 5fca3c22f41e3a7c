package dev.jround.spi.tensor;

import java.io.Closeable;
import java.util.Collection;
import java.util.Optional;

/** A read-only set of named tensors: a checkpoint on disk, a dequantized export, an in-memory map. */
public interface TensorStore extends Closeable {

    /** Tensor names in a stable order (the order of the files' headers). */
    Collection<String> names();

    Optional<TensorInfo> info(String name);

    /** The tensor's bytes; for mmapped stores the buffer is a window of the mapped file (no heap copy). */
    HostTensor get(String name);

    default boolean contains(String name) {
        return info(name).isPresent();
    }

    /** Convenience: the tensor converted to float32. */
    default float[] floats(String name) {
        return get(name).toFloats();
    }

    @Override
    default void close() {
    }
}
