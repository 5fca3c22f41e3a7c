package dev.jround.plugin.alg.signround;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.TuningOptions;
import dev.jround.spi.model.LinearInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SignRound on a toy residual MLP block: it must beat RTN on the block output, deterministically per seed. */
class SignRoundTest {

    static final int HIDDEN = 64;
    static final int INTER = 128;
    static final int SAMPLES = 16;
    static final int SEQ = 16;

    static NDManager root;
    static MlpBlockModel model;
    static List<NDArray> inputs;
    static List<NDArray> reference;
    static NDManager data;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager();
        model = new MlpBlockModel(root, HIDDEN, INTER, 2, 7);
        data = root.newSubManager();
        inputs = new ArrayList<>();
        reference = new ArrayList<>();
        Random r = new Random(3);
        for (int s = 0; s < SAMPLES; s++) {
            float[] x = new float[SEQ * HIDDEN];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            NDArray in = data.create(x, new Shape(1, SEQ, HIDDEN));
            inputs.add(in);
            NDArray out = model.blockForward(0, in, BlockInputs.NONE, Map.of());
            out.attach(data);
            reference.add(out);
        }
    }

    @AfterAll
    static void tearDown() {
        model.close();
        root.close();
    }

    static List<LayerSpec> specs(QuantScheme scheme) {
        List<LayerSpec> l = new ArrayList<>();
        for (LinearInfo li : model.blockLinears(0)) {
            l.add(new LayerSpec(li.name(), li.inFeatures(), li.outFeatures(), scheme, 0, false, "test"));
        }
        return l;
    }

    static TuningOptions options(int iters, boolean notUseBest, int maxGap) {
        return TuningOptions.builder().iters(iters).notUseBestMse(notUseBest).dynamicMaxGap(maxGap).build();
    }

    static BlockResult run(QuantAlgorithm alg, QuantScheme scheme, TuningOptions o, long seed, NDManager jobManager,
                           ProgressListener progress, List<NDArray> masks) {
        BlockJob job = BlockJob.builder().model(model).blockIndex(0).layers(specs(scheme)).inputs(inputs)
                .reference(reference).lossMask(masks).dataTypes(s -> new SymIntType()).options(o).rng(new Random(seed))
                .manager(jobManager).progress(progress).build();
        return alg.quantizeBlock(job);
    }

    /** Mean block-output MSE over all samples with the given dequantized weights. */
    static double blockMse(List<QuantizedLayer> layers) {
        double sum = 0;
        try (NDManager m = root.newSubManager()) {
            Map<String, NDArray> w = new HashMap<>();
            for (QuantizedLayer q : layers) {
                w.put(q.name(), m.create(q.dequantized(), new Shape(q.rows(), q.cols())));
            }
            for (int s = 0; s < SAMPLES; s++) {
                try (NDManager it = m.newSubManager()) {
                    NDArray x = inputs.get(s);
                    x.tempAttach(it);
                    NDArray y = model.blockForward(0, x, BlockInputs.NONE, w);
                    NDArray ref = reference.get(s);
                    ref.tempAttach(it);
                    sum += y.sub(ref).square().mean().getFloat();
                }
            }
        }
        return sum / SAMPLES;
    }

    static List<QuantizedLayer> rtn(QuantScheme scheme) {
        List<QuantizedLayer> out = new ArrayList<>();
        SymIntType t = new SymIntType();
        for (LayerSpec s : specs(scheme)) {
            try (NDManager m = root.newSubManager()) {
                out.add(t.quantize(s, model.linearWeight(m, s.name()).toFloatArray(), null, null, null, null, null, false));
            }
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"2,32", "4,32"})
    void signRoundLowersBlockMseBelowRtn(int bits, int group) {
        QuantScheme scheme = QuantScheme.intWeightOnly(bits, group, true).withScaleDtype("fp32");
        double rtnMse = blockMse(rtn(scheme));
        try (NDManager jm = root.newSubManager()) {
            BlockResult r = run(new SignRoundAlgorithm(), scheme, options(100, false, -1), 42, jm, ProgressListener.NONE, null);
            double tunedMse = blockMse(r.layers());
            assertTrue(tunedMse < rtnMse, "W" + bits + "G" + group + ": tuned " + tunedMse + " vs RTN " + rtnMse);
            assertTrue(r.lossAfter() < r.lossBefore(), r.lossBefore() + " -> " + r.lossAfter());
            assertTrue(r.bestIter() > 0);
            // iteration 0 evaluates the RTN weights on one mini-batch of 8 samples
            assertEquals(rtnMse, r.lossBefore(), rtnMse * 0.5);
        }
    }

    @Test
    void adamVariantAlsoImprovesOnRtn() {
        QuantScheme scheme = QuantScheme.intWeightOnly(2, 32, true);
        double rtnMse = blockMse(rtn(scheme));
        try (NDManager jm = root.newSubManager()) {
            BlockResult r = run(new AdamRoundAlgorithm(), scheme, options(60, false, -1), 42, jm, ProgressListener.NONE, null);
            assertTrue(blockMse(r.layers()) < rtnMse);
            assertTrue(r.lossAfter() < r.lossBefore());
        }
    }

    @Test
    void sameSeedGivesIdenticalWeightsAndDifferentSeedDifferentOnes() {
        QuantScheme scheme = QuantScheme.intWeightOnly(2, 32, true);
        float[][] a = dequantized(run(new SignRoundAlgorithm(), scheme, options(30, false, -1), 1, root, ProgressListener.NONE, null));
        float[][] b = dequantized(run(new SignRoundAlgorithm(), scheme, options(30, false, -1), 1, root, ProgressListener.NONE, null));
        float[][] c = dequantized(run(new SignRoundAlgorithm(), scheme, options(30, false, -1), 2, root, ProgressListener.NONE, null));
        StringBuilder diff = new StringBuilder();
        for (int l = 0; l < a.length; l++) {
            int n = 0;
            double worst = 0;
            for (int i = 0; i < a[l].length; i++) {
                if (Float.floatToRawIntBits(a[l][i]) != Float.floatToRawIntBits(b[l][i])) {
                    n++;
                    worst = Math.max(worst, Math.abs(a[l][i] - b[l][i]));
                }
            }
            if (n > 0) {
                diff.append(" layer ").append(l).append(": ").append(n).append(" of ").append(a[l].length)
                        .append(" differ, worst ").append(worst);
            }
        }
        assertTrue(Arrays.deepEquals(a, b), "same seed, same bytes:" + diff);
        assertFalse(Arrays.deepEquals(a, c), "another seed draws other mini-batches");
    }

    private static float[][] dequantized(BlockResult r) {
        return r.layers().stream().map(QuantizedLayer::dequantized).toArray(float[][]::new);
    }

    @Test
    void noArraysLeakIntoTheJobOrModelManagers() {
        QuantScheme scheme = QuantScheme.intWeightOnly(4, 32, true);
        try (NDManager jm = root.newSubManager()) {
            int jobBefore = jm.getManagedArrays().size();
            int modelBefore = model.manager().getManagedArrays().size();
            int dataBefore = data.getManagedArrays().size();
            List<NDArray> masks = new ArrayList<>();
            for (int s = 0; s < SAMPLES; s++) {
                float[] m = new float[SEQ];
                Arrays.fill(m, 1f);
                m[SEQ - 1] = 0f;
                masks.add(data.create(m, new Shape(1, SEQ, 1)));
            }
            int dataWithMasks = data.getManagedArrays().size();
            run(new SignRoundAlgorithm(), scheme, options(5, false, -1), 42, jm, ProgressListener.NONE, masks);
            assertEquals(jobBefore, jm.getManagedArrays().size(), "job manager");
            assertEquals(modelBefore, model.manager().getManagedArrays().size(), "model manager");
            assertEquals(dataWithMasks, data.getManagedArrays().size(), "cached inputs' manager");
            masks.forEach(NDArray::close);
            assertEquals(dataBefore, data.getManagedArrays().size());
        }
    }

    @Test
    void progressEveryIterationAndEarlyStopAndLastParameters() {
        QuantScheme scheme = QuantScheme.intWeightOnly(4, 32, true);
        AtomicInteger calls = new AtomicInteger();
        double[] lastBest = {Double.NaN};
        ProgressListener p = new ProgressListener() {
            @Override
            public void iteration(int block, int iter, int iters, double loss, double bestLoss) {
                assertEquals(calls.getAndIncrement(), iter);
                assertEquals(12, iters);
                assertTrue(bestLoss <= loss);
                lastBest[0] = bestLoss;
            }
        };
        BlockResult r = run(new SignRoundAlgorithm(), scheme, options(12, false, -1), 5, root, p, null);
        assertEquals(12, calls.get());
        assertEquals(lastBest[0], r.lossAfter());

        BlockResult last = run(new SignRoundAlgorithm(), scheme, options(12, true, -1), 5, root, ProgressListener.NONE, null);
        assertEquals(11, last.bestIter(), "not_use_best_mse keeps the last evaluated parameters");

        AtomicInteger early = new AtomicInteger();
        ProgressListener counter = new ProgressListener() {
            @Override
            public void iteration(int block, int iter, int iters, double loss, double bestLoss) {
                early.incrementAndGet();
            }
        };
        // with a tiny learning rate nothing improves after a while; a gap of 1 stops at the first miss
        TuningOptions gap = TuningOptions.builder().lr(1e-7).minmaxLr(1e-7).dynamicMaxGap(1).build();
        run(new SignRoundAlgorithm(), scheme, gap, 5, root, counter, null);
        assertTrue(early.get() < 200, "dynamic_max_gap stops early, ran " + early.get());
    }

    @Test
    void gradientAccumulationAndMomentumRun() {
        QuantScheme scheme = QuantScheme.intWeightOnly(4, 32, true);
        TuningOptions o = TuningOptions.builder().iters(20).batchSize(2).gradientAccumulateSteps(4).momentum(0.9).build();
        BlockResult r = run(new SignRoundAlgorithm(), scheme, o, 42, root, ProgressListener.NONE, null);
        assertEquals(2, r.layers().size());
        assertTrue(r.lossAfter() <= r.lossBefore());
    }

    @Test
    void servicesAndQuantizedInputSwitch() {
        List<String> names = ServiceLoader.load(QuantAlgorithm.class).stream().map(p -> p.get().name()).sorted().toList();
        assertEquals(List.of("adam", "signround"), names);
        assertTrue(new SignRoundAlgorithm().usesQuantizedInputs(TuningOptions.defaults()));
        TuningOptions d = TuningOptions.defaults();
        TuningOptions off = d.toBuilder().enableQuantedInput(false).build();
        assertFalse(new AdamRoundAlgorithm().usesQuantizedInputs(off));
    }

    @Test
    void aLayerOutsideTheBlocksIsTunedOnItsOwnOutputs() {
        QuantScheme scheme = QuantScheme.intWeightOnly(2, 32, true);
        LinearInfo up = model.blockLinears(0).get(0);
        LayerSpec spec = new LayerSpec(up.name(), up.inFeatures(), up.outFeatures(), scheme, -1, true, "lm_head-like");
        List<NDArray> few = inputs.subList(0, 6);
        TuningOptions o = TuningOptions.builder().iters(40).batchSize(2).build();
        AtomicInteger iterations = new AtomicInteger();
        ProgressListener p = new ProgressListener() {
            @Override
            public void iteration(int block, int iter, int iters, double loss, double bestLoss) {
                assertEquals(-1, block);
                iterations.incrementAndGet();
            }
        };
        BlockResult r = new SignRoundAlgorithm().quantizeBlock(BlockJob.builder().model(model).blockIndex(-1)
                .layers(List.of(spec)).inputs(few).dataTypes(s -> new SymIntType()).options(o).rng(new Random(1))
                .manager(root).progress(p).build());
        assertEquals(40, iterations.get());
        assertTrue(r.lossAfter() < r.lossBefore());
        QuantizedLayer rtn;
        try (NDManager m = root.newSubManager()) {
            rtn = new SymIntType().quantize(spec, model.linearWeight(m, spec.name()).toFloatArray(), null, null, null, null, null, false);
        }
        assertTrue(layerMse(r.layers().get(0), few) < layerMse(rtn, few));
    }

    private static double layerMse(QuantizedLayer q, List<NDArray> xs) {
        double sum = 0;
        try (NDManager m = root.newSubManager()) {
            NDArray w = m.create(q.dequantized(), new Shape(q.rows(), q.cols()));
            NDArray fp = model.linearWeight(m, q.name());
            for (NDArray x : xs) {
                try (NDManager it = m.newSubManager()) {
                    x.tempAttach(it);
                    sum += x.matMul(w.transpose()).sub(x.matMul(fp.transpose())).square().mean().getFloat();
                }
            }
        }
        return sum / xs.size();
    }

    @Test
    void samplerCoversEveryIndexOncePerRoundAndReshuffles() {
        CyclicSampler s = new CyclicSampler(10, 4, new Random(9));
        List<Integer> first = new ArrayList<>(s.next());
        first.addAll(s.next());
        assertEquals(8, first.stream().distinct().count());
        List<Integer> third = s.next();
        assertEquals(4, third.stream().distinct().count(), "a reshuffled round starts; the 2 left over were dropped");
    }
}
