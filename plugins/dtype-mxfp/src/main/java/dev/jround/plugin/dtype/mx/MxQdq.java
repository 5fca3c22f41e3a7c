package dev.jround.plugin.dtype.mx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.QuantDataType.TunableParams;

/**
 * Differentiable MX QDQ on DJL arrays, the same float32 operations in the same order as {@link MxQuant#quantize}
 * in its tuning mode (docs/algorithms.md). Floors, ceilings and roundings are straight-through
 * ({@code x + stopGradient(op(x) - x)}); the max scale beta reaches the loss through the shared scale, as in the
 * reference (learnable clipping); alpha has no role in MX formats and gets a zero gradient.
 */
final class MxQdq {

    private MxQdq() {
    }

    static NDArray qdq(NDArray weight, MxFormat f, boolean rceil, int groupSize, TunableParams params) {
        Shape shape = weight.getShape();
        GroupLayout layout = new GroupLayout((int) shape.get(0), (int) shape.get(1), groupSize);
        DataType weightType = weight.getDataType();
        NDArray x = layout.toGroups(weight.toType(DataType.FLOAT32, false), 0f);
        NDArray m = x.abs().max(new int[] {1}, true);
        NDArray v = params == null ? null : params.v();
        if (params != null && params.beta() != null) {
            NDArray beta = params.beta().reshape(-1, 1);
            if (params.alpha() != null) {
                beta = beta.add(params.alpha().reshape(-1, 1).mul(constant(x, 0f)));
            }
            m = m.mul(beta);
        }
        NDArray isZero = m.eq(0f);
        NDArray one = fill(m, 1f);
        NDArray safe = NDArrays.where(isZero, one, m);
        NDArray e;
        if (rceil) {
            e = NDArrays.where(isZero, one, ceilSte(safe.div(constant(x, f.maxNorm)).log2()));
        } else {
            e = floorSte(NDArrays.where(isZero, one, safe.log2())).sub(constant(x, f.emax));
        }
        e = clamp(e, -MxQuant.SCALE_EMAX, MxQuant.SCALE_EMAX);
        NDArray s = constant(x, 2f).pow(e);
        NDArray t = x.div(s);
        t = v == null ? t.add(constant(x, 0f)) : t.add(v);
        t = clamp(t, -f.maxNorm, f.maxNorm);
        NDArray q = elementRound(t, f);
        return layout.fromGroups(q.mul(s)).toType(weightType, false);
    }

    private static NDArray elementRound(NDArray t, MxFormat f) {
        NDArray mScale = constant(t, f.mantissaScale);
        NDArray y;
        NDArray p2 = null;
        if (f.ebits > 0) {
            NDArray a = t.abs().add(t.eq(0f).toType(DataType.FLOAT32, false));
            NDArray p = floorSte(a.log2());
            p = NDArrays.where(p.lt(f.minExp), fill(p, f.minExp), p);
            p2 = constant(t, 2f).pow(p);
            y = t.div(p2).mul(mScale);
        } else {
            y = t.mul(mScale);
        }
        NDArray ay = y.abs();
        NDArray half = constant(t, 0.5f);
        NDArray mask = ay.stopGradient().sub(0.5f).mod(2f).eq(0f).toType(DataType.FLOAT32, false);
        NDArray r = y.stopGradient().sign().mul(floorSte(ay.add(half)).sub(mask));
        r = f.ebits > 0 ? r.div(mScale).mul(p2) : r.div(mScale);
        return clamp(r, -f.maxNorm, f.maxNorm);
    }

    /** A float32 scalar owned by the engine (DJL's Number overloads keep a Java buffer the backward may outlive). */
    /** {@code value} in the shape of {@code like} (DJL's where does not broadcast). */
    static NDArray fill(NDArray like, float value) {
        return like.getManager().full(like.getShape(), value, DataType.FLOAT32);
    }

    static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    static NDArray floorSte(NDArray x) {
        return x.add(x.stopGradient().floor().sub(x.stopGradient()));
    }

    static NDArray ceilSte(NDArray x) {
        return x.add(x.stopGradient().ceil().sub(x.stopGradient()));
    }

    /** torch.clamp's value and gradient without Java-owned scalars in the graph. */
    static NDArray clamp(NDArray x, float lo, float hi) {
        NDArray clipped = x.stopGradient().clip(lo, hi);
        NDArray inside = x.gte(lo).logicalAnd(x.lte(hi));
        return NDArrays.where(inside, x, clipped);
    }
}
