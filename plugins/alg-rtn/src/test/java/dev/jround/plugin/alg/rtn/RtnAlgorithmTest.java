package dev.jround.plugin.alg.rtn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.LinearWeightSource;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.TuningOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routing of the RTN family: which layers, which weights, plain vs searched, imatrix hand-over, asym fallback. */
class RtnAlgorithmTest {

    /** A data type that records how it was called. */
    static final class RecordingType implements QuantDataType {
        final List<String> calls = new ArrayList<>();
        final List<float[]> importances = new ArrayList<>();

        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.DATA_TYPE, "recording", "1", "");
        }

        @Override
        public boolean supports(QuantScheme scheme) {
            return true;
        }

        @Override
        public NDArray qdq(NDArray weight, QuantScheme scheme, TunableParams params) {
            throw new AssertionError("RTN runs on the host");
        }

        @Override
        public QuantizedLayer quantize(LayerSpec spec, float[] weight, float[] bias, float[] v, float[] alpha, float[] beta,
                                       float[] imatrix, boolean optimizedRtn) {
            assertNull(v);
            assertNull(alpha);
            assertNull(beta);
            calls.add(spec.name() + (optimizedRtn ? ":opt" : ":plain") + ":w" + weight[0] + (bias == null ? "" : ":b" + bias[0]));
            importances.add(imatrix);
            return QuantizedLayer.ofGrid(spec, spec.inFeatures(), new int[weight.length], new float[spec.outFeatures()],
                    new int[spec.outFeatures()], weight.clone(), bias);
        }
    }

    /** A model that only exposes names and weights. */
    static final class WeightsOnlyModel implements CausalLM, LinearWeightSource {
        @Override public ModelConfig config() { return null; }
        @Override public int hiddenSize() { return 4; }
        @Override public int vocabSize() { return 8; }
        @Override public int maxPositions() { return 8; }
        @Override public DataType computeType() { return DataType.FLOAT32; }
        @Override public int numBlocks() { return 1; }
        @Override public String blockName(int i) { return "model.layers." + i; }
        @Override public List<LinearInfo> blockLinears(int i) {
            return List.of(new LinearInfo("model.layers.0.a", 4, 2, false), new LinearInfo("model.layers.0.b", 4, 2, true));
        }
        @Override public LinearInfo lmHead() { return new LinearInfo("lm_head", 4, 8, false); }
        @Override public boolean tiedEmbeddings() { return false; }
        @Override public String embeddingWeightName() { return "embed.weight"; }
        @Override public NDArray embed(NDManager manager, NDArray inputIds) { throw new AssertionError(); }
        @Override public NDArray blockForward(int i, NDArray hidden, BlockInputs inputs, Map<String, NDArray> linearWeights,
                                              BiConsumer<String, NDArray> observer) { throw new AssertionError("RTN needs no forward"); }
        @Override public NDArray head(NDArray hidden, NDArray lmHeadWeight) { throw new AssertionError(); }
        @Override public void close() { }
        @Override public float[] linearWeight(String name) {
            float first = name.endsWith(".a") ? 1f : 2f;
            return new float[] {first, 0, 0, 0, 0, 0, 0, 0};
        }
        @Override public float[] linearBias(String name) { return name.endsWith(".b") ? new float[] {7f, 7f} : null; }
        @Override public NDArray linearWeight(NDManager manager, String name) { throw new AssertionError("host path expected"); }
        @Override public NDArray linearBias(NDManager manager, String name) { throw new AssertionError("host path expected"); }
    }

    private static LayerSpec spec(String name, QuantScheme s) {
        return new LayerSpec(name, 4, 2, s, 0, false, "test");
    }

    private static BlockJob job(CausalLM model, List<LayerSpec> layers, RecordingType type, TuningOptions options,
                                Map<String, float[]> imatrix) {
        return BlockJob.builder().model(model).blockIndex(0).layers(layers).imatrix(imatrix).dataTypes(s -> type)
                .options(options).rng(new Random(1)).build();
    }

    @Test
    void plainRtnQuantizesEveryQuantizedLayerInOrderWithItsWeightsAndBias() {
        RecordingType type = new RecordingType();
        QuantScheme w4 = QuantScheme.intWeightOnly(4, 128, true);
        List<LayerSpec> layers = List.of(spec("model.layers.0.a", w4), spec("model.layers.0.skip", QuantScheme.FULL_PRECISION),
                spec("model.layers.0.b", w4));
        BlockResult r = new RtnAlgorithm().quantizeBlock(job(new WeightsOnlyModel(), layers, type, TuningOptions.defaults().withIters(0),
                Map.of("model.layers.0.a", new float[4])));
        assertEquals(List.of("model.layers.0.a:plain:w1.0", "model.layers.0.b:plain:w2.0:b7.0"), type.calls);
        assertNull(type.importances.get(0), "plain RTN ignores the imatrix");
        assertEquals(2, r.layers().size());
        assertEquals(-1, r.bestIter());
        assertTrue(Double.isNaN(r.lossBefore()));
    }

    @Test
    void optimizedRtnSearchesSymmetricLayersWithTheirImatrix() {
        RecordingType type = new RecordingType();
        float[] im = {1, 2, 3, 4};
        List<LayerSpec> layers = List.of(spec("model.layers.0.a", QuantScheme.intWeightOnly(4, 128, true)),
                spec("model.layers.0.b", QuantScheme.intWeightOnly(4, 128, false)));
        new OptRtnAlgorithm().quantizeBlock(job(new WeightsOnlyModel(), layers, type, TuningOptions.defaults().withIters(0),
                Map.of("model.layers.0.a", im, "model.layers.0.b", im)));
        assertEquals(List.of("model.layers.0.a:opt:w1.0", "model.layers.0.b:plain:w2.0:b7.0"), type.calls);
        assertSame(im, type.importances.get(0));
        assertNull(type.importances.get(1), "asymmetric int falls back to plain RTN without imatrix");
    }

    @Test
    void optimizedRtnWithoutImatrixStillSearchesAndDisableOptRtnTurnsItOff() {
        RecordingType type = new RecordingType();
        List<LayerSpec> layers = List.of(spec("model.layers.0.a", QuantScheme.intWeightOnly(2, 32, true)));
        new OptRtnAlgorithm().quantizeBlock(job(new WeightsOnlyModel(), layers, type, TuningOptions.defaults().withIters(0), Map.of()));
        TuningOptions d = TuningOptions.defaults();
        TuningOptions disabled = d.toBuilder().iters(0).disableOptRtn(true).build();
        new OptRtnAlgorithm().quantizeBlock(job(new WeightsOnlyModel(), layers, type, disabled, Map.of()));
        assertEquals(List.of("model.layers.0.a:opt:w1.0", "model.layers.0.a:plain:w1.0"), type.calls);
        assertArrayEquals(new float[][] {null, null}, type.importances.toArray(new float[0][]));
    }

    @Test
    void descriptorsAndServices() {
        assertFalse(new RtnAlgorithm().needsCalibration());
        assertTrue(new OptRtnAlgorithm().needsCalibration());
        assertFalse(new OptRtnAlgorithm().usesQuantizedInputs(TuningOptions.defaults()));
        List<String> names = ServiceLoader.load(QuantAlgorithm.class).stream().map(p -> p.get().name()).sorted().toList();
        assertEquals(List.of("opt_rtn", "rtn"), names);
    }
}
