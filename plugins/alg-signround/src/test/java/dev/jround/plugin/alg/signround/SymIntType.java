package dev.jround.plugin.alg.signround;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;

import java.util.Map;

/**
 * A minimal symmetric full-range integer type for these tests (the real one is the dtype-int plugin, which a
 * plugin may not depend on): float32 scales, the same V/alpha/beta semantics on host and on DJL.
 */
final class SymIntType implements QuantDataType {

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.DATA_TYPE, "test-int", "1", "");
    }

    @Override
    public boolean supports(QuantScheme scheme) {
        return scheme.sym();
    }

    @Override
    public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams p) {
        GroupLayout layout = new GroupLayout((int) weight.getShape().get(0), (int) weight.getShape().get(1), scheme.groupSize());
        float nmax = 1 << (scheme.bits() - 1);
        NDArray x = layout.toGroups(weight, 0f);
        NDArray neg = p.wMin().mul(p.alpha() == null ? x.getManager().ones(p.wMin().getShape()) : p.alpha()).neg();
        NDArray pos = p.beta() == null ? p.wMax() : p.wMax().mul(p.beta());
        NDArray sign = pos.lt(neg).toType(DataType.FLOAT32, false).mul(2f).sub(1f);
        NDArray s = sign.mul(pos.maximum(neg)).div(nmax).reshape(-1, 1);
        NDArray t = x.div(s).add(p.v());
        NDArray q = t.add(t.round().sub(t).stopGradient()).clip(-nmax, nmax - 1);
        return layout.fromGroups(s.mul(q));
    }

    @Override
    public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                   float[] imatrix, boolean optimizedRtn) {
        GroupLayout layout = GroupLayout.of(spec);
        float nmax = 1 << (spec.scheme().bits() - 1);
        float[] x = layout.toGroups(weight, 0f);
        int len = layout.groupLength();
        float[] out = new float[x.length];
        float[] scales = new float[layout.numGroups()];
        for (int g = 0; g < layout.numGroups(); g++) {
            float lo = 0;
            float hi = 0;
            for (int k = 0; k < len; k++) {
                lo = Math.min(lo, x[g * len + k]);
                hi = Math.max(hi, x[g * len + k]);
            }
            float neg = -(lo * (alpha == null ? 1f : alpha[g]));
            float pos = hi * (beta == null ? 1f : beta[g]);
            float s = (pos < neg ? 1f : -1f) * Math.max(pos, neg) / nmax;
            scales[g] = s;
            for (int k = 0; k < len; k++) {
                int i = g * len + k;
                float q = (float) Math.rint(x[i] / s + (v == null ? 0f : v[i]));
                out[i] = s * Math.max(-nmax, Math.min(nmax - 1, q));
            }
        }
        float[] deq = layout.fromGroups(out);
        return QuantizedLayer.ofGrid(spec, len, new int[deq.length], scales, new int[scales.length], deq, bias);
    }
}
