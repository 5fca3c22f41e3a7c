package dev.jround.plugin.arch.llama;

import dev.jround.lib.safetensors.ConfigJson;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.model.testing.GoldenLogits;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static dev.jround.lib.model.testing.GoldenLogits.CPU;
import static dev.jround.lib.model.testing.GoldenLogits.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jround's Llama-family forward against logits transformers produced for the same tiny checkpoints. */
class GoldenLogitsTest {

    static Path golden(String name) {
        return GoldenLogits.golden(GoldenLogitsTest.class, name);
    }

    static CausalLM bind(String name, SafetensorsCheckpoint weights, DataType type) {
        ModelConfig config = ConfigJson.read(golden(name));
        LlamaFamilyArchitecture arch = new LlamaFamilyArchitecture();
        assertTrue(arch.supports(config));
        return arch.bind(config, weights, CPU, type);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "qwen3"})
    void float32LogitsMatchTransformers(String name) {
        Path dir = golden(name);
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             CausalLM model = bind(name, weights, DataType.FLOAT32)) {
            GoldenLogits.assertFloat32LogitsMatch(name, model, g);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "mistral", "qwen2", "qwen3"})
    void bfloat16LogitsStayCloseToTransformersBfloat16(String name) {
        Path dir = golden(name);
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             CausalLM model = bind(name, weights, DataType.BFLOAT16);
             NDManager m = NDManager.newBaseManager()) {
            NDArray logits = model.logits(m, tensor(m, g, "input_ids"), BlockInputs.NONE);
            assertEquals(DataType.BFLOAT16, model.computeType());
            NDArray ours = logits;
            // every logit is a bfloat16 value (held in float32: DJL's PyTorch JNI has no bf16 element type)
            assertEquals(0f, ours.sub(dev.jround.lib.model.ModelTensors.roundToBfloat16(ours)).abs().max().getFloat());
            float toBf16 = ours.sub(tensor(m, g, "logits_bf16")).abs().max().getFloat();
            float toFp32 = ours.sub(tensor(m, g, "logits")).abs().max().getFloat();
            assertTrue(toBf16 < 0.08, name + " bf16 max |delta logit| vs transformers bf16: " + toBf16);
            assertTrue(toFp32 > 1e-4, "the bf16 run must really compute in bf16");
        }
    }

    @Test
    void namesLinearsInForwardOrderAndObserverSeesEachInput() {
        Path dir = golden("qwen2");
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             CausalLM model = bind("qwen2", weights, DataType.FLOAT32);
             NDManager m = NDManager.newBaseManager()) {
            List<String> names = model.blockLinears(1).stream().map(LinearInfo::name).toList();
            assertEquals(List.of("model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj",
                    "model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.o_proj", "model.layers.1.mlp.gate_proj",
                    "model.layers.1.mlp.up_proj", "model.layers.1.mlp.down_proj"), names);
            assertTrue(model.blockLinears(0).get(0).hasBias());
            assertFalse(model.blockLinears(0).get(3).hasBias());
            assertTrue(model.tiedEmbeddings());
            assertEquals("lm_head", model.lmHead().name());
            NDArray h = model.embed(m, m.create(new long[]{5, 6, 7}, new Shape(1, 3)));
            List<String> seen = new ArrayList<>();
            List<Shape> shapes = new ArrayList<>();
            NDArray out = model.blockForward(1, h, BlockInputs.NONE, Map.of(), (n, x) -> {
                seen.add(n);
                shapes.add(x.getShape());
            });
            assertEquals(names, seen);
            assertEquals(new Shape(1, 3, 48), shapes.get(6));
            assertEquals(h.getShape(), out.getShape());
            assertEquals(m, out.getManager());
            model.releaseBlock(1);
            NDArray again = model.blockForward(1, h, BlockInputs.NONE, Map.of());
            assertEquals(0f, again.sub(out).abs().max().getFloat());
        }
    }

    @Test
    void gradientsFlowThroughReplacedWeights() {
        Path dir = golden("llama");
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             CausalLM model = bind("llama", weights, DataType.FLOAT32);
             NDManager m = NDManager.newBaseManager()) {
            NDArray h = model.embed(m, m.create(new long[]{5, 6, 7, 8}, new Shape(1, 4)));
            String name = "model.layers.0.mlp.down_proj";
            NDArray base = m.create(weights.get(name + ".weight").toFloats(), new Shape(32, 48));
            NDArray reference = model.blockForward(0, h, BlockInputs.NONE, Map.of());
            NDArray same = model.blockForward(0, h, BlockInputs.NONE, Map.of(name, base));
            assertEquals(0f, same.sub(reference).abs().max().getFloat(), 1e-6f);
            NDArray scaled = base.mul(1.5f);
            scaled.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = model.blockForward(0, h, BlockInputs.NONE, Map.of(name, scaled));
                NDArray loss = out.sub(reference).square().mean();
                gc.backward(loss);
            }
            NDArray grad = scaled.getGradient();
            assertNotNull(grad);
            assertTrue(grad.abs().sum().getFloat() > 0, "replaced weight must receive a gradient");
        }
    }

    @Test
    void bfloat16RoundingMatchesRoundToNearestEven() {
        java.util.Random r = new java.util.Random(3);
        float[] v = new float[20000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        }
        // exact halfway cases: ties go to the even bfloat16 neighbour
        v[0] = Float.intBitsToFloat(0x3F808000);
        v[1] = Float.intBitsToFloat(0x3F818000);
        v[2] = Float.intBitsToFloat(0xBF808000);
        float[] expected = HostTensor.ofFloats(v, dev.jround.spi.tensor.DType.BF16, v.length).toFloats();
        try (NDManager m = NDManager.newBaseManager()) {
            float[] ours = dev.jround.lib.model.ModelTensors.roundToBfloat16(m.create(v)).toFloatArray();
            assertEquals(1.0f, ours[0]);
            assertArrayEquals(expected, ours);
        }
    }

    @Test
    void otherModelTypesAreNotClaimed() {
        ModelConfig opt = ConfigJson.read(golden("llama"));
        assertFalse(new LlamaFamilyArchitecture().supports(opt.with("model_type", "opt")));
        ModelConfig yarn = opt.with("rope_parameters", Map.of("rope_type", "yarn", "rope_theta", 1e4));
        assertThrows(UnsupportedFeatureException.class, () -> LlamaSettings.from(yarn));
    }
}
