package dev.jround.plugin.alg.signround;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.lib.model.ModelTensors;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.TuningOptions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SignRound block tuning (docs/algorithms.md): learnable rounding offsets V and min/max scales alpha/beta per layer,
 * block output MSE against the full-precision reference, one optimizer step per iteration on a mini-batch drawn by
 * the cyclic sampler, linear learning-rate decay, and the parameters that produced the best loss.
 *
 * <p>A job with {@code blockIndex < 0} tunes a single layer outside the blocks (the lm_head, docs/algorithms.md): its
 * {@code layers} hold that one layer, {@code inputs} its cached inputs {@code [1, L, in]} (quantized stream if
 * enabled); the target is the full-precision layer on {@code referenceInputs} (the full-precision inputs), or on
 * {@code inputs} when there are none; samples go one at a time with {@code batch_size * gradient_accumulate_steps}
 * of them accumulated per step.
 *
 * <p>Memory: the long-lived arrays (weights, parameters, optimizer state) live on one sub-manager of the job's
 * manager; each iteration runs in a fresh sub-manager to which they are temporarily attached, so every temporary
 * of the forward, the loss and the backward pass is freed when the iteration ends.
 */
final class BlockTuner {

    /** One tuned layer: its spec, data type, checkpoint weight and parameters. */
    private static final class Layer {
        final LayerSpec spec;
        final QuantDataType type;
        final NDArray weight;
        final float[] hostWeight;
        final float[] bias;
        final TunableParams params;
        final float lr;
        final float minmaxLr;
        float[] bestV;
        float[] bestAlpha;
        float[] bestBeta;

        Layer(LayerSpec spec, QuantDataType type, NDArray weight, float[] bias, TunableParams params, float lr, float minmaxLr) {
            this.spec = spec;
            this.type = type;
            this.weight = weight;
            this.hostWeight = weight.toFloatArray();
            this.bias = bias;
            this.params = params;
            this.lr = lr;
            this.minmaxLr = minmaxLr;
        }

        void snapshot() {
            bestV = params.v().toFloatArray();
            bestAlpha = params.alpha() == null ? null : params.alpha().toFloatArray();
            bestBeta = params.beta() == null ? null : params.beta().toFloatArray();
        }

        List<NDArray> longLived() {
            List<NDArray> a = new ArrayList<>(List.of(weight, params.v(), params.wMin(), params.wMax()));
            if (params.alpha() != null) {
                a.add(params.alpha());
                a.add(params.beta());
            }
            return a;
        }
    }

    private BlockTuner() {
    }

    static BlockResult run(BlockJob job, boolean adam) {
        TuningOptions o = job.options();
        CausalLM model = job.model();
        ProgressListener progress = job.progress() == null ? ProgressListener.NONE : job.progress();
        boolean minmax = o.enableMinmaxTuning();
        NDManager base = job.manager();
        try (NDManager paramManager = base.newSubManager()) {
            List<Layer> layers = new ArrayList<>();
            for (LayerSpec spec : job.layers()) {
                if (!spec.quantized()) {
                    continue;
                }
                QuantDataType type = job.dataTypes().apply(spec.scheme());
                NDArray w = model.linearWeight(paramManager, spec.name()).toType(DataType.FLOAT32, false);
                NDArray b = model.linearBias(paramManager, spec.name());
                float[] bias = b == null ? null : b.toType(DataType.FLOAT32, false).toFloatArray();
                TunableParams init = type.initTunableParams(w, spec.scheme());
                TunableParams params = new TunableParams(init.v(), minmax ? init.alpha() : null, minmax ? init.beta() : null,
                        init.wMin(), init.wMax());
                params.v().setRequiresGradient(true);
                if (minmax) {
                    params.alpha().setRequiresGradient(true);
                    params.beta().setRequiresGradient(true);
                }
                int bits = spec.scheme().bits();
                layers.add(new Layer(spec, type, w, bias, params, (float) o.lrFor(bits), (float) o.minmaxLrFor(bits)));
            }
            int n = job.inputs() == null ? 0 : job.inputs().size();
            if (layers.isEmpty() || o.iters() <= 0 || n == 0) {
                return BlockResult.builder().layers(finish(layers, false, false)).build();
            }
            return tune(job, layers, adam, paramManager, progress);
        }
    }

    private static BlockResult tune(BlockJob job, List<Layer> layers, boolean adam, NDManager paramManager, ProgressListener progress) {
        TuningOptions o = job.options();
        CausalLM model = job.model();
        int iters = o.iters();
        int n = job.inputs().size();
        // a layer outside the blocks (docs/algorithms.md) is tuned one sample at a time, all of a global batch accumulated
        boolean layerMode = job.blockIndex() < 0;
        int gas = Math.max(1, o.gradientAccumulateSteps());
        int batch = layerMode ? 1 : Math.max(1, Math.min(o.batchSize(), n));
        int steps = layerMode ? Math.max(1, o.batchSize()) * gas : gas;
        int globalBatch = Math.min(n, batch * steps);
        boolean sumReduction = steps != 1;
        List<NDArray> masks = job.lossMask();
        long[] validTokens = null;
        if (masks != null) {
            validTokens = new long[n];
            for (int i = 0; i < n; i++) {
                try (NDArray count = masks.get(i).sum()) {
                    validTokens[i] = Math.round(count.getFloat());
                }
            }
        }
        double fixedElements = 1;
        if (sumReduction && (masks == null || layerMode)) {
            fixedElements = 0;
            for (int i = 0; i < globalBatch; i++) {
                fixedElements += masks != null ? validTokens[i] : job.inputs().get(i).size();
            }
        }
        // blocks re-count the valid tokens of every iteration's samples; a layer uses the first global batch's count
        long[] perIterationTokens = layerMode ? null : validTokens;
        boolean bf16 = model.computeType() == DataType.BFLOAT16;

        int slots = layers.size() * 3;
        Optimizer optimizer = adam ? Optimizer.adamW(slots) : Optimizer.signSgd(o.momentum(), slots);
        float[] lrNow = new float[layers.size()];
        float[] minmaxLrNow = new float[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            lrNow[l] = layers.get(l).lr;
            minmaxLrNow[l] = layers.get(l).minmaxLr;
        }
        CyclicSampler sampler = new CyclicSampler(n, globalBatch, job.rng());
        Engine engine = Engine.getEngine(job.manager().getEngine().getEngineName());

        double bestLoss = Float.MAX_VALUE;
        double initialLoss = Double.NaN;
        double lastLoss = Double.NaN;
        int lastBest = 0;
        boolean haveBest = false;
        for (int t = 0; t < iters; t++) {
            List<Integer> indices = sampler.next();
            double elements = fixedElements;
            if (perIterationTokens != null) {
                elements = 0;
                for (int i : indices) {
                    elements += perIterationTokens[i];
                }
            }
            if (elements <= 0) {
                elements = 1;
            }
            double total = 0;
            try (NDManager it = job.manager().newSubManager()) {
                for (Layer layer : layers) {
                    for (NDArray a : layer.longLived()) {
                        a.tempAttach(it);
                    }
                }
                try (GradientCollector gc = engine.newGradientCollector()) {
                    for (int start = 0; start < indices.size(); start += batch) {
                        List<Integer> chunk = indices.subList(start, Math.min(indices.size(), start + batch));
                        NDArray x = gather(job.inputs(), chunk, it);
                        NDArray ref = job.reference() != null && !job.reference().isEmpty()
                                ? gather(job.reference(), chunk, it)
                                : layerTarget(layers.get(0), job.referenceInputs() != null && !job.referenceInputs().isEmpty()
                                        ? gather(job.referenceInputs(), chunk, it) : x);
                        NDArray mask = masks == null ? null : gather(masks, chunk, it);
                        BlockInputs aux = auxFor(job.aux(), chunk, it);
                        Map<String, NDArray> weights = new HashMap<>();
                        for (Layer layer : layers) {
                            NDArray wq = layer.type.qdq(layer.weight, layer.spec.scheme(), layer.params);
                            weights.put(layer.spec.name(), bf16 ? ModelTensors.roundToBfloat16(wq) : wq);
                        }
                        NDArray pred = layerMode ? linear(x, weights.get(layers.get(0).spec.name()), layers.get(0).bias)
                                : model.blockForward(job.blockIndex(), x, aux, weights);
                        NDArray diff = pred.toType(DataType.FLOAT32, false).sub(ref.toType(DataType.FLOAT32, false));
                        if (mask != null) {
                            diff = diff.mul(mask);
                        }
                        NDArray squared = diff.square();
                        NDArray loss = sumReduction ? squared.sum() : squared.mean();
                        total += loss.getFloat() / elements;
                        // the scale is an engine-owned array: loss.mul(Number) would hand autograd a temporary over a
                        // Java buffer that the garbage collector may free before backward reads it (non-reproducible runs)
                        gc.backward(optimizer.lossScale() == 1f ? loss
                                : loss.mul(it.full(new Shape(), optimizer.lossScale(), DataType.FLOAT32)));
                    }
                }
                if (t == 0) {
                    initialLoss = total;
                }
                lastLoss = total;
                if (total < bestLoss) {
                    bestLoss = total;
                    if (!o.notUseBestMse()) {
                        layers.forEach(Layer::snapshot);
                        lastBest = t;
                        haveBest = true;
                    }
                }
                if (o.notUseBestMse() && t == iters - 1) {
                    layers.forEach(Layer::snapshot);
                    lastBest = t;
                    haveBest = true;
                }
                progress.iteration(job.blockIndex(), t, iters, total, bestLoss);
                if (!o.notUseBestMse() && o.dynamicMaxGap() > 0 && t - lastBest >= o.dynamicMaxGap()) {
                    break;
                }
                for (int l = 0; l < layers.size(); l++) {
                    TunableParams p = layers.get(l).params;
                    update(optimizer, 3 * l, p.v(), lrNow[l], paramManager, false);
                    if (p.alpha() != null) {
                        update(optimizer, 3 * l + 1, p.alpha(), minmaxLrNow[l], paramManager, true);
                        update(optimizer, 3 * l + 2, p.beta(), minmaxLrNow[l], paramManager, true);
                    }
                }
            }
            // torch's LinearLR(start 1, end 0): lr_t = lr_{t-1} * (1 - 1 / (iters - t + 1)), in float32
            int step = t + 1;
            if (step <= iters) {
                float factor = (float) (1.0 + -1.0 / (iters + (step - 1) * -1.0));
                for (int l = 0; l < layers.size(); l++) {
                    lrNow[l] = lrNow[l] * factor;
                    minmaxLrNow[l] = minmaxLrNow[l] * factor;
                }
            }
        }
        List<QuantizedLayer> out = finish(layers, haveBest, true);
        double after = o.notUseBestMse() ? lastLoss : (haveBest ? bestLoss : Double.NaN);
        return BlockResult.builder().layers(out).lossBefore(initialLoss).lossAfter(after)
                .bestIter(haveBest ? lastBest : -1).build();
    }

    /** {@code x · Wᵀ + b} for a single layer. */
    private static NDArray linear(NDArray x, NDArray weight, float[] bias) {
        NDArray y = x.matMul(weight.transpose());
        if (bias != null) {
            y = y.add(x.getManager().create(bias));
        }
        return y;
    }

    /** A layer's full-precision output on its inputs, when the caller gave no reference outputs. */
    private static NDArray layerTarget(Layer layer, NDArray x) {
        return linear(x, layer.weight, layer.bias).stopGradient();
    }

    /** One optimizer step on {@code param}, then its gradient is zeroed; alpha/beta are kept in [0, 1]. */
    private static void update(Optimizer optimizer, int slot, NDArray param, float lr, NDManager state, boolean clampUnit) {
        try (NDArray grad = param.getGradient()) {
            optimizer.step(slot, param, grad, lr, state);
            grad.subi(grad);
        }
        if (clampUnit) {
            // the reference clamps alpha/beta to [0, 1] in place at the start of every QDQ; clamping right after
            // the step gives the same values to every later use. p - (p - clip(p)) is exactly clip(p).
            try (NDArray clipped = param.clip(0f, 1f); NDArray excess = param.sub(clipped)) {
                param.subi(excess);
            }
        }
    }

    /** The best (or last, or RTN) parameters through the data type's exact host quantizer. */
    private static List<QuantizedLayer> finish(List<Layer> layers, boolean haveBest, boolean tuned) {
        List<QuantizedLayer> out = new ArrayList<>();
        for (Layer layer : layers) {
            // without a best iteration the reference unwraps with V = 0 through the tuning QDQ
            float[] v = haveBest ? layer.bestV : (tuned ? new float[(int) layer.params.v().size()] : null);
            float[] alpha = haveBest ? layer.bestAlpha : null;
            float[] beta = haveBest ? layer.bestBeta : null;
            out.add(layer.type.quantize(layer.spec, layer.hostWeight, layer.bias, v, alpha, beta, null, false));
        }
        return out;
    }

    /** Per-sample arrays {@code [1, ...]} of {@code chunk} concatenated along the batch axis, owned by {@code it}. */
    private static NDArray gather(List<NDArray> samples, List<Integer> chunk, NDManager it) {
        if (chunk.size() == 1) {
            NDArray one = samples.get(chunk.get(0));
            one.tempAttach(it);
            return one;
        }
        NDList list = new NDList(chunk.size());
        for (int i : chunk) {
            list.add(samples.get(i));
        }
        NDArray joined = NDArrays.concat(list, 0);
        joined.attach(it);
        return joined;
    }

    private static BlockInputs auxFor(List<BlockInputs> aux, List<Integer> chunk, NDManager it) {
        if (aux == null || aux.isEmpty()) {
            return BlockInputs.NONE;
        }
        boolean any = false;
        for (int i : chunk) {
            any |= aux.get(i) != null && aux.get(i).attentionMask() != null;
        }
        if (!any) {
            return BlockInputs.NONE;
        }
        List<NDArray> masks = new ArrayList<>();
        for (int i : chunk) {
            NDArray m = aux.get(i).attentionMask();
            if (m == null) {
                throw new IllegalStateException("block " + chunk + ": some samples have an attention mask and some do not");
            }
            masks.add(m);
        }
        return new BlockInputs(gather(masks, java.util.stream.IntStream.range(0, masks.size()).boxed().toList(), it));
    }
}
