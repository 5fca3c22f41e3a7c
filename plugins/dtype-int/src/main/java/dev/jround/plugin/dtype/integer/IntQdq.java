package dev.jround.plugin.dtype.integer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantScheme;

/**
 * Differentiable integer QDQ on DJL arrays (docs/algorithms.md): the same float32 operations, in the same order, as
 * {@link IntQuant#minMax}, so tuning sees exactly the weights that are exported. Rounding is a straight-through
 * estimator {@code x + stopGradient(round(x) - x)}; clamps pass gradients only inside their bounds.
 */
final class IntQdq {

    private IntQdq() {
    }

    static NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
        Shape shape = weight.getShape();
        GroupLayout layout = new GroupLayout((int) shape.get(0), (int) shape.get(1), scheme.groupSize());
        ScaleDtype sd = ScaleDtype.of(scheme.scaleDtype());
        DataType weightType = weight.getDataType();
        NDArray x = layout.toGroups(weight.toType(DataType.FLOAT32, false), 0f);
        NDArray wMin;
        NDArray wMax;
        if (params != null && params.wMin() != null && params.wMax() != null) {
            wMin = params.wMin();
            wMax = params.wMax();
        } else {
            wMin = x.min(new int[] {1}).minimum(0f);
            wMax = x.max(new int[] {1}).maximum(0f);
        }
        NDArray alpha = params == null ? null : params.alpha();
        NDArray beta = params == null ? null : params.beta();
        NDArray v = params == null ? null : params.v();
        NDArray lo = alpha == null ? wMin : wMin.mul(alpha.reshape(-1));
        NDArray hi = beta == null ? wMax : wMax.mul(beta.reshape(-1));
        float thr = sd.threshold();
        NDArray out;
        if (scheme.sym()) {
            float nmax = 1 << (scheme.bits() - 1);
            NDArray neg = lo.neg();
            NDArray sign = hi.lt(neg).toType(DataType.FLOAT32, false).mul(2f).sub(1f);
            NDArray s = castScale(sign.mul(hi.maximum(neg)).div(constant(hi, nmax)), sd);
            s = NDArrays.where(s.lt(0f), clamp(s, Float.NEGATIVE_INFINITY, -thr), clamp(s, thr, Float.POSITIVE_INFINITY));
            s = s.reshape(-1, 1);
            NDArray t = x.div(s);
            if (v != null) {
                t = t.add(v);
            }
            NDArray q = clamp(round(t, v != null), -nmax, nmax - 1);
            out = s.mul(q);
        } else {
            float qmax = (1 << scheme.bits()) - 1;
            NDArray s = clamp(castScale(hi.sub(lo).div(constant(hi, qmax)), sd), thr, Float.POSITIVE_INFINITY);
            NDArray z = steRound(lo.neg().div(s)).reshape(-1, 1);
            s = s.reshape(-1, 1);
            NDArray t = x.div(s);
            if (v != null) {
                t = t.add(v);
            }
            NDArray q = clamp(round(t, v != null).add(z), 0f, qmax);
            out = s.mul(q.sub(z));
        }
        return layout.fromGroups(out).toType(weightType, false);
    }

    /**
     * A float32 scalar whose memory the engine owns. DJL's scalar overloads ({@code mul(Number)}, {@code div(Number)},
     * {@code clip(Number, Number)}) wrap the number in a temporary array over a Java direct buffer and close it at
     * once; autograd keeps that tensor for the backward pass, and once the garbage collector frees the buffer the
     * backward reads whatever memory took its place (tuning then differs from run to run). Constants that take
     * part in a differentiable operation are therefore created here, by the engine.
     */
    static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    /**
     * {@code clip(lo, hi)} with torch.clamp's value and gradient (passed where {@code lo <= x <= hi}, zero elsewhere)
     * that keeps no Java-owned scalar for the backward pass (see {@link #constant}): the clipped values come from a
     * detached copy, and {@code where} saves only the (engine-owned) condition.
     */
    static NDArray clamp(NDArray x, float lo, float hi) {
        NDArray clipped = x.stopGradient().clip(lo, hi);
        NDArray inside = x.gte(lo).logicalAnd(x.lte(hi));
        return NDArrays.where(inside, x, clipped);
    }

    /**
     * Plain rounding (RTN, no gradient needed) or the straight-through form of the tuning path; they differ only in
     * the sign of a zero result, as in the reference (see {@link IntQuant#round}).
     */
    private static NDArray round(NDArray t, boolean straightThrough) {
        return straightThrough ? steRound(t) : t.round();
    }

    /** Round to nearest even with an identity gradient; the forward value is {@code round(x)} (a zero is +0). */
    static NDArray steRound(NDArray x) {
        return x.add(x.round().sub(x).stopGradient());
    }

    /**
     * The scale dtype cast inside QDQ with an identity gradient (docs/algorithms.md). DJL's cast runs without autograd and its
     * PyTorch JNI has no bfloat16 element type, so the cast is added as a constant offset
     * {@code s + stopGradient(cast(s) - s)}, whose forward value is exactly the rounded scale: fp16 rounding by
     * the engine, bf16 rounding on the host (round-to-nearest-even, as torch casts).
     */
    private static NDArray castScale(NDArray s, ScaleDtype sd) {
        if (sd == ScaleDtype.FP32) {
            return s;
        }
        NDArray offset;
        if (sd == ScaleDtype.FP16) {
            NDArray plain = s.stopGradient();
            offset = plain.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).sub(plain);
        } else {
            float[] values = s.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                values[i] = sd.round(values[i]) - values[i];
            }
            offset = s.getManager().create(values, s.getShape());
        }
        return s.add(offset);
    }
}
