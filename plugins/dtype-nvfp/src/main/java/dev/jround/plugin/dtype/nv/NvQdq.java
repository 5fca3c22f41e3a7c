package dev.jround.plugin.dtype.nv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.tensor.Floats;

/**
 * Differentiable NVFP4 QDQ on DJL arrays, the float32 operations of {@link NvQuant#quantize} in the same order
 * (docs/algorithms.md). The FP8 block-scale cast and the E2M1 rounding are straight-through; beta scales the group
 * maximum (learnable clipping); alpha has no role and gets a zero gradient.
 */
final class NvQdq {

    private NvQdq() {
    }

    static NDArray qdq(NDArray weight, int groupSize, float globalScale, TunableParams params) {
        Shape shape = weight.getShape();
        GroupLayout layout = new GroupLayout((int) shape.get(0), (int) shape.get(1), groupSize);
        DataType weightType = weight.getDataType();
        NDArray x = layout.toGroups(weight.toType(DataType.FLOAT32, false), 0f);
        NDArray m = x.abs().max(new int[] {1}, true);
        if (params != null && params.beta() != null) {
            NDArray beta = params.beta().reshape(-1, 1);
            if (params.alpha() != null) {
                beta = beta.add(params.alpha().reshape(-1, 1).mul(constant(x, 0f)));
            }
            m = m.mul(beta);
        }
        NDArray g = constant(x, globalScale);
        NDArray s = g.mul(m.mul(constant(x, NvQuant.INV_FP4_MAX)));
        s = clamp(s, -NvQuant.FP8_MAX, NvQuant.FP8_MAX);
        s = s.add(e4m3Offset(s));
        NDArray sg = s.mul(constant(x, NvQuant.recip(globalScale)));
        NDArray out = recip(sg);
        NDArray t = x.mul(out);
        if (params != null && params.v() != null) {
            t = t.add(params.v());
        }
        t = clamp(t, -NvQuant.FP4_MAX, NvQuant.FP4_MAX);
        NDArray q = castToFp4(t);
        return layout.fromGroups(q.mul(recip(out))).toType(weightType, false);
    }

    /** {@code stopGradient(e4m3(s) - s)}: the straight-through FP8 cast as a constant offset (rounded on the host). */
    private static NDArray e4m3Offset(NDArray s) {
        float[] values = s.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            values[i] = Floats.roundToE4m3(values[i]) - values[i];
        }
        return s.getManager().create(values, s.getShape());
    }

    private static NDArray castToFp4(NDArray x) {
        NDArray sign = x.stopGradient().sign();
        NDArray a = x.abs();
        NDArray two = constant(x, 2f);
        NDArray step1 = steRound(a.mul(two)).div(two);
        NDArray step2 = steRound(a);
        NDArray step3 = two.mul(steRound(a.div(two)));
        NDArray below2 = a.stopGradient().lt(2f);
        NDArray below4 = a.stopGradient().lt(4f);
        NDArray r = NDArrays.where(below2, step1, NDArrays.where(below4, step2, step3));
        return clamp(r, -NvQuant.FP4_MAX, NvQuant.FP4_MAX).mul(sign);
    }

    /** The reference's safe reciprocal with the gradient of {@code 1/x} where {@code x != 0}. */
    private static NDArray recip(NDArray x) {
        NDArray zero = x.stopGradient().eq(0f);
        NDArray safe = NDArrays.where(zero, fill(x, 1f), x);
        return NDArrays.where(zero, fill(x, 0f), constant(x, 1f).div(safe));
    }

    /** {@code value} in the shape of {@code like} (DJL's where does not broadcast). */
    static NDArray fill(NDArray like, float value) {
        return like.getManager().full(like.getShape(), value, DataType.FLOAT32);
    }

    static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    static NDArray steRound(NDArray x) {
        return x.add(x.stopGradient().round().sub(x.stopGradient()));
    }

    static NDArray clamp(NDArray x, float lo, float hi) {
        NDArray clipped = x.stopGradient().clip(lo, hi);
        NDArray inside = x.gte(lo).logicalAnd(x.lte(hi));
        return NDArrays.where(inside, x, clipped);
    }
}
