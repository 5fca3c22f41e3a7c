package dev.jround.plugin.arch.opt;

import dev.jround.lib.safetensors.ConfigJson;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.model.testing.GoldenLogits;
import dev.jround.lib.model.ModelTensors;
import dev.jround.spi.tensor.MapTensorStore;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.jround.lib.model.testing.GoldenLogits.CPU;
import static dev.jround.lib.model.testing.GoldenLogits.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jround's OPT forward against logits transformers produced for the same tiny checkpoints. */
class OptGoldenLogitsTest {

    static Path golden(String name) {
        return GoldenLogits.golden(OptGoldenLogitsTest.class, name);
    }

    static CausalLM bind(String name, dev.jround.spi.tensor.TensorStore weights, DataType type) {
        ModelConfig config = ConfigJson.read(golden(name));
        OptArchitecture arch = new OptArchitecture();
        assertTrue(arch.supports(config));
        return arch.bind(config, weights, CPU, type);
    }

    @ParameterizedTest
    @ValueSource(strings = {"opt", "opt-proj"})
    void float32LogitsMatchTransformers(String name) {
        Path dir = golden(name);
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             CausalLM model = bind(name, weights, DataType.FLOAT32)) {
            GoldenLogits.assertFloat32LogitsMatch(name, model, g);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"opt", "opt-proj"})
    void bfloat16LogitsStayCloseToTransformersBfloat16(String name) {
        Path dir = golden(name);
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             CausalLM model = bind(name, weights, DataType.BFLOAT16);
             NDManager m = NDManager.newBaseManager()) {
            NDArray logits = model.logits(m, tensor(m, g, "input_ids"), BlockInputs.NONE);
            assertEquals(0f, logits.sub(ModelTensors.roundToBfloat16(logits)).abs().max().getFloat());
            float toBf16 = logits.sub(tensor(m, g, "logits_bf16")).abs().max().getFloat();
            assertTrue(toBf16 < 0.08, name + " bf16 max |delta logit| vs transformers bf16: " + toBf16);
            assertTrue(logits.sub(tensor(m, g, "logits")).abs().max().getFloat() > 1e-4);
        }
    }

    @Test
    void readsCheckpointsWithoutTheModelPrefixUnderCanonicalNames() {
        Path dir = golden("opt");
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             NDManager m = NDManager.newBaseManager()) {
            MapTensorStore bare = new MapTensorStore();
            for (String n : weights.names()) {
                bare.put(n.substring("model.".length()), weights.get(n));
            }
            try (CausalLM model = bind("opt", bare, DataType.FLOAT32)) {
                List<String> names = model.blockLinears(0).stream().map(LinearInfo::name).toList();
                assertEquals(List.of("model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.0.self_attn.k_proj",
                        "model.decoder.layers.0.self_attn.v_proj", "model.decoder.layers.0.self_attn.out_proj",
                        "model.decoder.layers.0.fc1", "model.decoder.layers.0.fc2"), names);
                assertTrue(model.tiedEmbeddings());
                NDArray logits = model.logits(m, tensor(m, g, "input_ids"), BlockInputs.NONE);
                assertTrue(logits.sub(tensor(m, g, "logits")).abs().max().getFloat() < 1e-4);
                NDArray bias = model.linearBias(m, "model.decoder.layers.1.fc2");
                assertEquals(new Shape(32), bias.getShape());
            }
        }
    }

    @Test
    void observerAndGradientsSeeEveryLinear() {
        Path dir = golden("opt-proj");
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
             CausalLM model = bind("opt-proj", weights, DataType.FLOAT32);
             NDManager m = NDManager.newBaseManager()) {
            assertEquals(16, model.lmHead().inFeatures());
            NDArray h = model.embed(m, m.create(new long[]{5, 6, 7}, new Shape(1, 3)));
            assertEquals(new Shape(1, 3, 32), h.getShape());
            List<String> seen = new ArrayList<>();
            NDArray reference = model.blockForward(0, h, BlockInputs.NONE, Map.of(), (n, x) -> seen.add(n));
            assertEquals(model.blockLinears(0).stream().map(LinearInfo::name).toList(), seen);
            String fc1 = "model.decoder.layers.0.fc1";
            NDArray w = model.linearWeight(m, fc1).mul(0.9f);
            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = model.blockForward(0, h, BlockInputs.NONE, Map.of(fc1, w));
                gc.backward(out.sub(reference).square().mean());
            }
            assertTrue(w.getGradient().abs().sum().getFloat() > 0);
            assertFalse(new OptArchitecture().supports(ConfigJson.read(dir).with("model_type", "llama")));
        }
    }
}
