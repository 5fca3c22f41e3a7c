package dev.jround.kernel.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.TuningOptions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * The block loop (docs/architecture.md, "The path of one job"): capture block-0 inputs from the embeddings, then
 * for every block compute full-precision reference outputs (collecting importance matrices on the way), let the
 * algorithm quantize it, stream the finished layers to the exporters, and advance the full-precision and quantized
 * input streams. Only the current block's activations are held, on the backend's device. After the last block a
 * quantized lm_head is tuned on its own inputs when the algorithm and the architecture can (layer-level SignRound,
 * docs/algorithms.md); {@link #tunedOutsideBlocks()} says which layers that covered.
 */
public final class BlockPipeline {

    /** Per-block outcome for the run summary. */
    public record BlockStat(int block, int layers, double lossBefore, double lossAfter, int bestIter, double seconds) {
    }

    private final CausalLM model;
    private final QuantAlgorithm algorithm;
    private final Function<QuantScheme, QuantDataType> dataTypes;
    private final TuningOptions options;
    private final ProgressListener progress;
    private final boolean collectImatrix;
    private final java.util.Set<String> tunedOutside = new java.util.LinkedHashSet<>();

    public BlockPipeline(CausalLM model, QuantAlgorithm algorithm, Function<QuantScheme, QuantDataType> dataTypes,
                         TuningOptions options, ProgressListener progress, boolean collectImatrix) {
        this.model = model;
        this.algorithm = algorithm;
        this.dataTypes = dataTypes;
        this.options = options;
        this.progress = progress;
        this.collectImatrix = collectImatrix;
    }

    /**
     * Quantizes every block.
     *
     * @param specs      resolved spec of every linear layer (quantized or not)
     * @param samples    calibration token sequences (all of one length), empty for zero-shot algorithms
     * @param padTokenId the tokenizer's pad id or -1 (for the loss mask)
     * @param sink       receives each finished layer, in order
     */
    public List<BlockStat> run(NDManager root, List<LayerSpec> specs, List<long[]> samples, long padTokenId,
                               java.util.function.Consumer<QuantizedLayer> sink) {
        return run(root, specs, samples, padTokenId, sink, block -> { });
    }

    /**
     * As {@link #run(NDManager, List, List, long, java.util.function.Consumer)}, and calls {@code blockFinished}
     * with each block's index once its last layer went to {@code sink} (every block, in order, also those with
     * nothing to quantize).
     */
    public List<BlockStat> run(NDManager root, List<LayerSpec> specs, List<long[]> samples, long padTokenId,
                               java.util.function.Consumer<QuantizedLayer> sink, java.util.function.IntConsumer blockFinished) {
        Map<String, LayerSpec> byName = new HashMap<>();
        specs.forEach(s -> byName.put(s.name(), s));
        boolean calibrated = algorithm.needsCalibration() && !samples.isEmpty();
        int batch = Math.max(1, Math.min(options.batchSize(), Math.max(1, samples.size())));
        Random rng = new Random(options.seed());
        List<BlockStat> stats = new ArrayList<>();

        NDManager streamManager = root.newSubManager();
        List<NDArray> xFp = new ArrayList<>();
        List<NDArray> lossMask = null;
        List<BlockInputs> aux = new ArrayList<>();
        if (calibrated) {
            xFp = embedSamples(streamManager, samples, batch);
            lossMask = lossMasks(root, samples, padTokenId);
            for (int s = 0; s < samples.size(); s++) {
                aux.add(BlockInputs.NONE);
            }
        }
        List<NDArray> xQ = null;
        LayerSpec head = calibrated && algorithm.tunesSingleLayers() && model.exposesHeadInput()
                ? byName.get(model.lmHead().name()) : null;
        if (head != null && (!head.quantized() || head.blockIndex() >= 0)) {
            head = null;
        }
        ProgressListener tuning = cancellable(progress);
        for (int b = 0; b < model.numBlocks(); b++) {
            JobProgress.checkCancelled(progress);
            if (progress instanceof JobProgress p) {
                p.blockStarted(b, model.numBlocks());
            }
            long t0 = System.nanoTime();
            List<LayerSpec> layers = new ArrayList<>();
            for (LinearInfo li : model.blockLinears(b)) {
                LayerSpec s = byName.get(li.name());
                if (s != null && s.quantized()) {
                    layers.add(s);
                }
            }
            NDManager next = root.newSubManager();
            List<NDArray> yRef = new ArrayList<>();
            Map<String, float[]> imatrix = new LinkedHashMap<>();
            try (NDManager blockManager = root.newSubManager()) {
                if (calibrated) {
                    yRef = referencePass(b, xFp, batch, next, collectImatrix ? imatrix : null);
                }
                BlockResult result;
                if (layers.isEmpty()) {
                    result = BlockResult.builder().build();
                } else {
                    List<NDArray> inputs = xQ != null ? xQ : xFp;
                    BlockJob job = BlockJob.builder().model(model).blockIndex(b).layers(layers)
                            .inputs(calibrated ? inputs : List.of()).reference(yRef).aux(aux).lossMask(lossMask)
                            .imatrix(imatrix).dataTypes(dataTypes).options(options).rng(rng).manager(blockManager)
                            .progress(tuning).build();
                    result = algorithm.quantizeBlock(job);
                }
                for (QuantizedLayer q : result.layers()) {
                    float[] imp = imatrix.get(q.name());
                    sink.accept(imp == null ? q : q.withImportance(imp));
                }
                blockFinished.accept(b);
                List<NDArray> newXQ = null;
                if (calibrated && algorithm.usesQuantizedInputs(options) && (b + 1 < model.numBlocks() || head != null)) {
                    Map<String, NDArray> qWeights = new HashMap<>();
                    for (QuantizedLayer q : result.layers()) {
                        qWeights.put(q.name(), blockManager.create(q.dequantized(), new Shape(q.rows(), q.cols()))
                                .toType(model.computeType(), false));
                    }
                    newXQ = forwardAll(b, xQ != null ? xQ : xFp, batch, next, qWeights, null);
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                BlockStat stat = new BlockStat(b, result.layers().size(), result.lossBefore(), result.lossAfter(), result.bestIter(), secs);
                stats.add(stat);
                progress.message(String.format("block %d/%d: %d layers, loss %s -> %s, %.2f s", b + 1, model.numBlocks(),
                        result.layers().size(), fmt(result.lossBefore()), fmt(result.lossAfter()), secs));
                if (progress instanceof JobProgress p) {
                    p.blockFinished(stat, model.numBlocks());
                }
                xQ = newXQ;
            }
            // the reference outputs become the next block's full-precision inputs
            streamManager.close();
            streamManager = next;
            xFp = yRef;
            model.releaseBlock(b);
        }
        if (head != null) {
            tuneHead(root, head, xFp, xQ, lossMask, aux, rng, sink, tuning);
        }
        streamManager.close();
        return stats;
    }

    /** Names of the layers outside the blocks that the algorithm tuned in the last {@link #run}. */
    public java.util.Set<String> tunedOutsideBlocks() {
        return java.util.Set.copyOf(tunedOutside);
    }

    /** Layer-level tuning of the lm_head on the final hidden states (after the final norm), both streams. */
    private void tuneHead(NDManager root, LayerSpec head, List<NDArray> xFp, List<NDArray> xQ, List<NDArray> lossMask,
                          List<BlockInputs> aux, Random rng, java.util.function.Consumer<QuantizedLayer> sink,
                          ProgressListener tuning) {
        long t0 = System.nanoTime();
        try (NDManager headManager = root.newSubManager()) {
            List<NDArray> fpIn = headInputs(xFp, headManager);
            List<NDArray> qIn = xQ == null ? null : headInputs(xQ, headManager);
            BlockJob job = BlockJob.builder().model(model).blockIndex(-1).layers(List.of(head))
                    .inputs(qIn != null ? qIn : fpIn).referenceInputs(qIn != null ? fpIn : List.of()).aux(aux)
                    .lossMask(lossMask).dataTypes(dataTypes).options(options).rng(rng).manager(headManager)
                    .progress(tuning).build();
            BlockResult result = algorithm.quantizeBlock(job);
            for (QuantizedLayer q : result.layers()) {
                sink.accept(q);
                tunedOutside.add(q.name());
            }
            progress.message(String.format("%s: tuned as one layer, loss %s -> %s, %.2f s", head.name(),
                    fmt(result.lossBefore()), fmt(result.lossAfter()), (System.nanoTime() - t0) / 1e9));
        }
    }

    private List<NDArray> headInputs(List<NDArray> hidden, NDManager target) {
        List<NDArray> out = new ArrayList<>(hidden.size());
        for (NDArray h : hidden) {
            try (NDManager tmp = target.newSubManager()) {
                NDArray x = h.duplicate();
                x.attach(tmp);
                NDArray y = model.headInput(x);
                y.attach(target);
                out.add(y);
            }
        }
        return out;
    }

    /** What the algorithm reports iterations to: with a {@link JobProgress}, each iteration also checks for a cancel. */
    private static ProgressListener cancellable(ProgressListener progress) {
        if (!(progress instanceof JobProgress)) {
            return progress;
        }
        return new ProgressListener() {
            @Override
            public void iteration(int block, int iter, int iters, double loss, double bestLoss) {
                progress.iteration(block, iter, iters, loss, bestLoss);
                JobProgress.checkCancelled(progress);
            }

            @Override
            public void message(String line) {
                progress.message(line);
            }
        };
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.6g", v);
    }

    /** Embeds the samples in batches and splits them into per-sample {@code [1, L, H]} arrays on {@code target}. */
    private List<NDArray> embedSamples(NDManager target, List<long[]> samples, int batch) {
        List<NDArray> out = new ArrayList<>();
        for (int s = 0; s < samples.size(); s += batch) {
            int e = Math.min(samples.size(), s + batch);
            try (NDManager tmp = target.newSubManager()) {
                int len = samples.get(s).length;
                long[] flat = new long[(e - s) * len];
                for (int k = s; k < e; k++) {
                    System.arraycopy(samples.get(k), 0, flat, (k - s) * len, len);
                }
                NDArray ids = tmp.create(flat, new Shape(e - s, len));
                NDArray h = model.embed(tmp, ids);
                for (NDArray part : h.split(e - s, 0)) {
                    part.attach(target);
                    out.add(part);
                }
            }
        }
        return out;
    }

    private List<NDArray> referencePass(int block, List<NDArray> inputs, int batch, NDManager target, Map<String, float[]> imatrix) {
        Map<String, double[]> sums = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, NDArray> observer = imatrix == null ? null : (name, x) -> {
            float[] sq = x.toType(DataType.FLOAT32, false).square().sum(new int[]{0, 1}).toFloatArray();
            double[] acc = sums.computeIfAbsent(name, k -> new double[sq.length]);
            for (int i = 0; i < sq.length; i++) {
                acc[i] += sq[i];
            }
        };
        List<NDArray> out = forwardAll(block, inputs, batch, target, Map.of(), observer);
        if (imatrix != null) {
            // AutoRound divides by the number of samples, not tokens; only relative values matter.
            int n = inputs.size();
            sums.forEach((k, v) -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) (v[i] / n);
                }
                imatrix.put(k, f);
            });
        }
        return out;
    }

    /** Runs the block over all samples in batches (no gradients) and returns per-sample outputs on {@code target}. */
    private List<NDArray> forwardAll(int block, List<NDArray> inputs, int batch, NDManager target,
                                     Map<String, NDArray> weights, java.util.function.BiConsumer<String, NDArray> observer) {
        List<NDArray> out = new ArrayList<>();
        for (int s = 0; s < inputs.size(); s += batch) {
            int e = Math.min(inputs.size(), s + batch);
            try (NDManager tmp = target.newSubManager()) {
                NDList parts = new NDList(inputs.subList(s, e));
                NDArray x = parts.size() == 1 ? inputs.get(s).duplicate() : NDArrays.concat(parts, 0);
                x.attach(tmp);
                NDArray y = model.blockForward(block, x, BlockInputs.NONE, weights, observer);
                y.attach(tmp);
                for (NDArray part : y.split(e - s, 0)) {
                    part.attach(target);
                    out.add(part);
                }
            }
        }
        return out;
    }

    /**
     * AutoRound's loss mask (docs/algorithms.md): positions holding the pad token (or, without a pad token, the run of
     * trailing tokens equal to the last one) and always the last position are excluded.
     */
    static List<NDArray> lossMasks(NDManager target, List<long[]> samples, long padTokenId) {
        List<NDArray> masks = new ArrayList<>();
        boolean any = false;
        List<float[]> raw = new ArrayList<>();
        for (long[] ids : samples) {
            float[] m = new float[ids.length];
            java.util.Arrays.fill(m, 1f);
            if (padTokenId >= 0) {
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] == padTokenId) {
                        m[i] = 0f;
                    }
                }
            } else if (ids.length > 1) {
                long last = ids[ids.length - 1];
                for (int i = ids.length - 2; i >= 0 && ids[i] == last; i--) {
                    m[i] = 0f;
                }
            }
            m[ids.length - 1] = 0f;
            for (float v : m) {
                any |= v == 0f;
            }
            raw.add(m);
        }
        if (!any) {
            return null;
        }
        for (float[] m : raw) {
            masks.add(target.create(m, new Shape(1, m.length, 1)));
        }
        return masks;
    }
}
