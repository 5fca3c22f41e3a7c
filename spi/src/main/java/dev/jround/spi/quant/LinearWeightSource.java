package dev.jround.spi.quant;

import dev.jround.spi.model.CausalLM;

/**
 * Host access to the original (checkpoint) weights of a model's linear layers. Quantization algorithms
 * need them to build tunable parameters and to produce the exact codes; a {@link CausalLM} implementation
 * (or the kernel's wrapper around one) implements this interface next to {@code CausalLM}.
 */
public interface LinearWeightSource {

    /** The {@code [out, in]} weight of linear layer {@code name}, row-major float32 (a copy the caller may keep). */
    float[] linearWeight(String name);

    /** The layer's bias as float32, or {@code null} when it has none. */
    default float[] linearBias(String name) {
        return null;
    }

    /**
     * The model's weight source: the model itself when it implements this interface, otherwise a view over
     * {@link CausalLM#linearWeight} / {@link CausalLM#linearBias} that copies each array to the host, with its
     * temporary arrays under {@code parent} (a manager of the run's device backend, never a new base manager).
     */
    static LinearWeightSource of(CausalLM model, ai.djl.ndarray.NDManager parent) {
        if (model instanceof LinearWeightSource s) {
            return s;
        }
        return new LinearWeightSource() {
            @Override
            public float[] linearWeight(String name) {
                try (ai.djl.ndarray.NDManager m = parent.newSubManager()) {
                    return model.linearWeight(m, name).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                }
            }

            @Override
            public float[] linearBias(String name) {
                try (ai.djl.ndarray.NDManager m = parent.newSubManager()) {
                    ai.djl.ndarray.NDArray b = model.linearBias(m, name);
                    return b == null ? null : b.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                }
            }
        };
    }
}
