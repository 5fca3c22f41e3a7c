package dev.jround.lib.model;

import dev.jround.spi.tensor.DType;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Small tensor helpers every architecture plugin needs: moving checkpoint tensors into compute memory,
 * positions and the additive attention bias derived from a padding mask. Kept here so that the
 * architecture plugins agree on masking semantics without depending on each other.
 */
public final class ModelTensors {

    private ModelTensors() {
    }

    /**
     * Copies a host tensor into a new array of {@code manager} in the compute type. The bytes are copied, so the
     * array stays valid after a memory-mapped checkpoint is closed.
     *
     * <p>DJL's PyTorch JNI (0.35.1 and the 0.32.0 CUDA build) has no bfloat16 element type: creating or casting to
     * {@code DataType.BFLOAT16} aborts the JVM. A {@code BFLOAT16} target therefore yields a float32 array whose
     * values are rounded to bfloat16 ({@link #roundToBfloat16}); bf16 checkpoints are widened in Java.
     */
    public static NDArray toNDArray(NDManager manager, HostTensor tensor, DataType target) {
        Shape shape = new Shape(tensor.shape());
        DataType stored = switch (tensor.dtype()) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case F64 -> DataType.FLOAT64;
            case I64 -> DataType.INT64;
            case I32 -> DataType.INT32;
            case I8 -> DataType.INT8;
            case U8 -> DataType.UINT8;
            default -> null;
        };
        NDArray raw;
        if (stored == null) {
            raw = manager.create(tensor.toFloats(), shape);
        } else {
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IllegalStateException("jround needs a little-endian platform");
            }
            ByteBuffer src = tensor.data().duplicate();
            ByteBuffer copy = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
            copy.put(src).flip();
            raw = manager.create(copy, shape, stored);
        }
        if (target == DataType.BFLOAT16) {
            NDArray wide = raw.getDataType() == DataType.FLOAT32 ? raw : raw.toType(DataType.FLOAT32, false);
            NDArray rounded = tensor.dtype() == DType.BF16 ? wide : roundToBfloat16(wide);
            if (rounded != raw) {
                raw.close();
            }
            if (wide != raw && wide != rounded) {
                wide.close();
            }
            return rounded;
        }
        if (target == null || raw.getDataType() == target) {
            return raw;
        }
        NDArray cast = raw.toType(target, false);
        raw.close();
        return cast;
    }

    /**
     * Rounds a float32 array to the nearest bfloat16 value, kept in float32 (a differentiable stand-in for a cast
     * to bfloat16, which DJL's PyTorch JNI cannot express). Uses Veltkamp splitting: {@code t = x * (2^16 + 1)},
     * {@code hi = t - (t - x)} keeps the leading 8 significant bits of {@code x}, rounded to nearest.
     */
    public static NDArray roundToBfloat16(NDArray x) {
        // an engine-owned factor: x.mul(Number) would leave autograd a temporary over a Java buffer that the garbage
        // collector may free before the backward pass reads it
        NDArray factor = x.getManager().full(new Shape(), 65537f, DataType.FLOAT32);
        NDArray t = x.mul(factor);
        factor.close();
        NDArray d = t.sub(x);
        NDArray hi = t.sub(d);
        t.close();
        d.close();
        return hi;
    }

    /**
     * Position ids {@code [batch, seq]} (int64) as transformers' generate() derives them: {@code 0..L-1} without
     * a mask; otherwise the running count of real tokens minus one, with padding positions set to 1. Left-padded
     * rows thus see the same positions as their unpadded text.
     */
    public static NDArray positions(NDManager manager, NDArray attentionMask, long batch, long seq) {
        if (attentionMask == null) {
            return manager.arange(0L, seq, 1L, DataType.INT64).reshape(1, seq).repeat(0, batch);
        }
        NDArray mask = attentionMask.toType(DataType.INT64, false);
        NDArray pos = mask.cumSum(1).sub(1);
        NDArray padded = mask.eq(0);
        NDArray result = pos.mul(mask).add(padded.toType(DataType.INT64, false));
        return result;
    }

    /**
     * Additive attention bias {@code [batch or 1, 1, seq, seq]} in float32: 0 where query {@code i} may see key
     * {@code j} (causal, key is a real token, and within {@code slidingWindow} when it is positive), and the
     * lowest float32 value elsewhere. A fully masked row (a padding query before any real token) stays finite,
     * so softmax gives a harmless uniform row instead of NaN.
     */
    public static NDArray causalBias(NDManager manager, NDArray attentionMask, long seq, int slidingWindow) {
        NDArray rows = manager.arange(0L, seq, 1L, DataType.INT64).reshape(seq, 1);
        NDArray cols = manager.arange(0L, seq, 1L, DataType.INT64).reshape(1, seq);
        NDArray allowed = cols.lte(rows);
        if (slidingWindow > 0) {
            allowed = allowed.logicalAnd(cols.gt(rows.sub(slidingWindow)));
        }
        allowed = allowed.reshape(1, 1, seq, seq);
        if (attentionMask != null) {
            long batch = attentionMask.getShape().get(0);
            NDArray keyReal = attentionMask.toType(DataType.INT64, false).eq(1).reshape(batch, 1, 1, seq);
            allowed = allowed.logicalAnd(keyReal);
        }
        // allowed -> (1 - 1) * MAX = 0, masked -> (0 - 1) * MAX = lowest float
        return allowed.toType(DataType.FLOAT32, false).sub(1f).mul(Float.MAX_VALUE);
    }

    /**
     * Runs one block's forward pass inside an {@link NDScope}, so that every intermediate array is freed when it
     * returns: only the result and the activations handed to {@code observer} survive, attached to the manager of
     * {@code hidden}.
     *
     * @param observer receives each linear layer's input by layer name, or {@code null}
     * @param forward  the block's computation, given the observer to call (wrapped, or {@code null})
     */
    public static NDArray scopedBlockForward(NDArray hidden, BiConsumer<String, NDArray> observer,
                                             Function<BiConsumer<String, NDArray>, NDArray> forward) {
        NDManager target = hidden.getManager();
        List<NDArray> observed = new ArrayList<>();
        BiConsumer<String, NDArray> watch = observer == null ? null : (name, x) -> {
            observed.add(x);
            observer.accept(name, x);
        };
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            result = forward.apply(watch);
            NDScope.unregister(result);
            for (NDArray o : observed) {
                NDScope.unregister(o);
            }
        }
        result.attach(target);
        for (NDArray o : observed) {
            if (!o.isReleased()) {
                o.attach(target);
            }
        }
        return result;
    }

    /**
     * The decoder blocks' weights in compute memory, loaded on first use and freed per block: each block gets its own
     * child manager of {@code parent}, so the pipeline keeps only the blocks it works on resident. Thread-safe.
     */
    public static final class BlockWeights implements AutoCloseable {

        private final NDManager parent;
        private final DataType computeType;
        private final Map<Integer, NDManager> managers = new HashMap<>();
        private final Map<Integer, Map<String, NDArray>> weights = new HashMap<>();

        /** Arrays are created under {@code parent} in {@code computeType} (see {@link ModelTensors#toNDArray}). */
        public BlockWeights(NDManager parent, DataType computeType) {
            this.parent = parent;
            this.computeType = computeType;
        }

        /**
         * The arrays of block {@code block} keyed by full tensor name, loaded now unless already resident. When a
         * tensor fails to load, none of the block's arrays stay allocated.
         *
         * @param names  full tensor names of the block (called only when the block is not resident)
         * @param source the checkpoint tensor of a full name
         */
        public synchronized Map<String, NDArray> get(int block, Supplier<? extends Collection<String>> names,
                                                     Function<String, HostTensor> source) {
            Map<String, NDArray> cached = weights.get(block);
            if (cached != null) {
                return cached;
            }
            NDManager manager = parent.newSubManager();
            Map<String, NDArray> loaded = new HashMap<>();
            try {
                for (String name : names.get()) {
                    loaded.put(name, toNDArray(manager, source.apply(name), computeType));
                }
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
            managers.put(block, manager);
            weights.put(block, loaded);
            return loaded;
        }

        /** Frees the arrays of one block (a later {@link #get} loads them again). */
        public synchronized void release(int block) {
            weights.remove(block);
            NDManager manager = managers.remove(block);
            if (manager != null) {
                manager.close();
            }
        }

        /** Frees every resident block. */
        @Override
        public synchronized void close() {
            weights.clear();
            managers.values().forEach(NDManager::close);
            managers.clear();
        }
    }
}
