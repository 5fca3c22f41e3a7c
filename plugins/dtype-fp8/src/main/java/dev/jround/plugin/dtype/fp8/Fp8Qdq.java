package dev.jround.plugin.dtype.fp8;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.tensor.Floats;

/**
 * Differentiable FP8 QDQ on DJL arrays, the operations of {@link Fp8Quant#quantize} in the same order
 * (docs/algorithms.md): the E4M3 cast is straight-through, beta scales the group maximum (learnable clipping),
 * alpha has no role and gets a zero gradient.
 */
final class Fp8Qdq {

    private Fp8Qdq() {
    }

    static NDArray qdq(NDArray weight, Fp8Layout layout, TunableParams params) {
        DataType weightType = weight.getDataType();
        NDArray x = layout.toGroups(weight.toType(DataType.FLOAT32, false));
        NDArray m = x.abs().max(new int[] {1}, true);
        if (params != null && params.beta() != null) {
            NDArray beta = params.beta().reshape(-1, 1);
            if (params.alpha() != null) {
                beta = beta.add(params.alpha().reshape(-1, 1).mul(constant(x, 0f)));
            }
            m = m.mul(beta);
        }
        NDArray s = m.div(constant(x, Fp8Quant.FP8_MAX));
        NDArray floor = s.stopGradient().lt(Fp8Quant.MIN_SCALE);
        s = NDArrays.where(floor, fill(s, Fp8Quant.MIN_SCALE), s);
        NDArray t = x.div(s);
        t = params != null && params.v() != null ? t.add(params.v()) : t.add(constant(x, 0f));
        NDArray clipped = t.stopGradient().clip(-Fp8Quant.FP8_MAX, Fp8Quant.FP8_MAX);
        t = NDArrays.where(t.gte(-Fp8Quant.FP8_MAX).logicalAnd(t.lte(Fp8Quant.FP8_MAX)), t, clipped);
        NDArray q = t.add(e4m3Offset(t));
        return layout.fromGroups(q.mul(s)).toType(weightType, false);
    }

    /** {@code stopGradient(e4m3(t) - t)}, rounded on the host (the engine binding has no float8 type). */
    private static NDArray e4m3Offset(NDArray t) {
        float[] values = t.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            values[i] = Floats.roundToE4m3(values[i]) - values[i];
        }
        return t.getManager().create(values, t.getShape());
    }

    /** {@code value} in the shape of {@code like} (DJL's where does not broadcast). */
    static NDArray fill(NDArray like, float value) {
        return like.getManager().full(like.getShape(), value, DataType.FLOAT32);
    }

    static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }
}
