package dev.jround.it.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.model.BlockInputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint whose config.json has only mlx-lm's {@code quantization} dict (older mlx-lm writes no
 * quantization_config) loads through the inference backend that reads it, not as a float model that then fails
 * the shape check, and gives the fake export's logits.
 */
class MlxLmConfigTest {

    @TempDir
    Path dir;

    @Test
    void aConfigWithOnlyTheMlxQuantizationDictLoadsAsQuantized() throws Exception {
        Path model = TinyLlama.SMALL.write(dir.resolve("model"), 0f);
        var result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).iters(0).disableOptRtn(true)
                .build().quantizeAndSave(dir.resolve("out"), "fake", "mlx");
        Path fake = result.summary().outputs().stream().filter(p -> p.toString().contains("fake")).findFirst().orElseThrow();
        Path mlx = result.summary().outputs().stream().filter(p -> !p.equals(fake)).findFirst().orElseThrow();
        ObjectMapper om = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) om.readTree(mlx.resolve("config.json").toFile());
        cfg.remove("quantization_config");
        assertTrue(cfg.has("quantization"), "the mlx export writes mlx-lm's quantization dict");
        Files.writeString(mlx.resolve("config.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));

        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry(getClass().getClassLoader()), Path::of);
        try (LoadedModel a = loader.load(fake.toString(), DataType.FLOAT32);
             LoadedModel b = loader.load(mlx.toString(), DataType.FLOAT32);
             NDManager m = a.device().newManager()) {
            assertFalse(b.config().has("quantization"), "the backend hands the architecture a plain config");
            long[] ids = {1, 5, 9, 13, 17, 21, 25, 29};
            NDArray x = m.create(ids, new Shape(1, ids.length));
            float[] la = a.lm().logits(m, x, BlockInputs.NONE).toFloatArray();
            float[] lb = b.lm().logits(m, x, BlockInputs.NONE).toFloatArray();
            assertArrayEquals(la, lb, 1e-5f);
        }
    }
}
