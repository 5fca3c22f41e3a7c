package dev.jround.kernel.model;

import dev.jround.lib.safetensors.ConfigJson;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.JroundPlugin;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.data.TokenizerProvider;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.MapTensorStore;
import dev.jround.lib.safetensors.SafetensorsWriter;
import dev.jround.spi.tensor.TensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which plugins ModelLoader picks for which checkpoint, with stand-in plugins (no tensors run). */
class ModelLoaderTest {

    @TempDir
    Path tmp;

    final List<String> bound = new ArrayList<>();

    record Registry(List<JroundPlugin> plugins) implements PluginRegistry {
        @Override
        public <T extends JroundPlugin> List<T> all(Class<T> type) {
            return plugins.stream().filter(type::isInstance).map(type::cast).toList();
        }

        @Override
        public List<Entry> entries() {
            return List.of();
        }
    }

    static <T> T stub(Class<T> type, Map<String, Object> answers) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[]{type}, (p, method, args) -> {
            if (answers.containsKey(method.getName())) {
                return answers.get(method.getName());
            }
            if (method.getName().equals("close")) {
                return null;
            }
            throw new UnsupportedOperationException(method.getName());
        }));
    }

    ModelArchitecture arch(String id, String... types) {
        return new ModelArchitecture() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.ARCHITECTURE, id, "1", id);
            }

            @Override
            public List<String> modelTypes() {
                return List.of(types);
            }

            @Override
            public boolean supports(ModelConfig config) {
                return List.of(types).contains(config.modelType());
            }

            @Override
            public CausalLM bind(ModelConfig config, TensorStore weights, DeviceBackend device, DataType computeType) {
                bound.add(id + ":" + device.deviceName() + ":" + computeType + ":" + weights.names());
                // the loader's shape audit asks for the blocks and the embeddings; this stub has none
                return stub(CausalLM.class, Map.of("numBlocks", 0, "tiedEmbeddings", true, "embeddingWeightName", "none",
                        "vocabSize", 2));
            }
        };
    }

    static final DeviceCapabilities FULL = DeviceCapabilities.builder().autograd(true).emulated(DataType.BFLOAT16).build();

    static DeviceBackend device(String name, int rank, boolean available) {
        return device(name, rank, available, FULL);
    }

    static DeviceBackend device(String name, int rank, boolean available, DeviceCapabilities caps) {
        return new DeviceBackend() {
            @Override
            public DeviceCapabilities capabilities() {
                return caps;
            }

            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.DEVICE, name, "1", name);
            }

            @Override
            public String deviceName() {
                return name;
            }

            @Override
            public boolean isAvailable() {
                return available;
            }

            @Override
            public int rank() {
                return rank;
            }

            @Override
            public NDManager newManager() {
                throw new UnsupportedOperationException();
            }
        };
    }

    Path model(String dirName, String configJson) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(dirName));
        Files.writeString(dir.resolve("config.json"), configJson);
        SafetensorsWriter.writeAll(dir, Map.of("w", HostTensor.ofFloats(new float[]{1, 2}, 2)), Map.of());
        return dir;
    }

    @Test
    void picksTheArchitectureThatClaimsTheModelTypeAndTheHighestRankedDevice() throws IOException {
        Path dir = model("m", "{\"model_type\": \"qwen2\"}");
        PluginRegistry reg = new Registry(List.of(arch("opt", "opt"), arch("llama", "llama", "qwen2"),
                device("cpu", 10, true), device("cuda", 100, false), device("fast", 50, true)));
        try (LoadedModel m = new ModelLoader(reg).load(dir.toString(), DataType.FLOAT32)) {
            assertEquals(List.of("llama:fast:float32:[w]"), bound);
            assertNull(m.tokenizer());
            assertEquals(dir, m.source());
            assertTrue(m.description().contains("safetensors"), m.description());
            assertEquals("llama", m.architecture().descriptor().id(), "the binding architecture travels with the model");
        }
        assertEquals("cpu", new ModelLoader(reg).deviceFor("cpu").deviceName());
        assertThrows(UnsupportedFeatureException.class, () -> new ModelLoader(reg).deviceFor("cuda"));
    }

    @Test
    void theAdmitHookSeesConfigJsonBeforeAnySafetensorsHeaderIsRead() throws IOException {
        Path dir = model("a", "{\"model_type\": \"llama\", \"quantization_config\": {}}");
        Files.writeString(dir.resolve("model.safetensors"), "not a safetensors file");
        PluginRegistry reg = new Registry(List.of(arch("llama", "llama"), device("cpu", 1, true)));
        List<ModelConfig> seen = new ArrayList<>();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new ModelLoader(reg).load(dir.toString(), DataType.FLOAT32, null, c -> {
                    seen.add(c);
                    throw new InvalidInputException("refused " + c.modelType(), "hint");
                }));
        assertEquals("refused llama", e.getMessage());
        assertEquals(1, seen.size());
        assertTrue(bound.isEmpty());
    }

    @Test
    void unsupportedModelTypeListsTheSupportedOnes() throws IOException {
        Path dir = model("g", "{\"model_type\": \"gemma3\"}");
        PluginRegistry reg = new Registry(List.of(arch("opt", "opt"), arch("llama", "llama", "qwen3"), device("cpu", 1, true)));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> new ModelLoader(reg).load(dir.toString(), DataType.FLOAT32));
        assertTrue(e.getMessage().contains("gemma3"), e.getMessage());
        assertEquals("supported model types: llama, opt, qwen3", e.hint());
    }

    @Test
    void quantizedCheckpointsGoThroughAnInferenceBackendAndTheResolverIsUsed() throws IOException {
        Path dir = model("q", "{\"model_type\": \"llama\", \"quantization_config\": {\"quant_method\": \"gptq\"}}");
        Path gguf = Files.writeString(tmp.resolve("m.gguf"), "GGUF");
        ModelConfig plain = ConfigJson.config(dir, (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"model_type\": \"llama\"}"));
        List<Path> asked = new ArrayList<>();
        InferenceBackend backend = new InferenceBackend() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.INFERENCE, "packed", "1", "packed");
            }

            @Override
            public List<String> reads() {
                return List.of("gptq", "gguf");
            }

            @Override
            public boolean canLoad(Path path) {
                asked.add(path);
                return true;
            }

            @Override
            public LoadedCheckpoint load(Path path) {
                return new LoadedCheckpoint(plain, new MapTensorStore().put("deq", HostTensor.ofFloats(new float[]{0}, 1)), "gptq w4");
            }
        };
        TokenizerProvider tokenizers = new TokenizerProvider() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.TOKENIZER, "t", "1", "t");
            }

            @Override
            public boolean canLoad(Path modelDir) {
                return modelDir.equals(dir);
            }

            @Override
            public Tokenizer load(Path modelDir) {
                return stub(Tokenizer.class, Map.of());
            }
        };
        PluginRegistry reg = new Registry(List.of(arch("llama", "llama"), device("cpu", 1, true), backend, tokenizers));
        try (LoadedModel m = new ModelLoader(reg, id -> id.equals("org/quant") ? dir : Path.of(id))
                .load("org/quant", DataType.BFLOAT16)) {
            assertEquals(List.of(dir), asked);
            assertEquals(List.of("llama:cpu:bfloat16:[deq]"), bound);
            assertTrue(m.description().contains("gptq w4"));
            assertTrue(m.tokenizer() != null);
        }
        try (LoadedModel m = new ModelLoader(reg).load(gguf.toString(), DataType.FLOAT32)) {
            assertSame(plain, m.config());
            assertEquals(gguf, asked.get(1));
        }
        PluginRegistry none = new Registry(List.of(arch("llama", "llama"), device("cpu", 1, true)));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> new ModelLoader(none).load(gguf.toString(), DataType.FLOAT32));
        assertTrue(e.getMessage().contains("m.gguf"));
        assertThrows(InvalidInputException.class, () -> new ModelLoader(none).load(tmp.resolve("absent").toString(), DataType.FLOAT32));
        assertThrows(InvalidInputException.class, () -> new ModelLoader(none).load(dir.toString(), DataType.FLOAT16));
    }
}
