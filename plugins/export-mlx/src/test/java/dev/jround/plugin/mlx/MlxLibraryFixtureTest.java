package dev.jround.plugin.mlx;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.lib.safetensors.SafetensorsFile;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.MapTensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Against MLX itself: {@code src/test/resources/mlx-library/model.safetensors} is this class's seeded export (every
 * width x group x sign, float32), and {@code mlx-dequantized.safetensors} is what MLX's {@code mx::dequantize} (CPU
 * backend, built from ml-explore/mlx; tools/fixtures/mlx/README.md) made of it. jround must still write exactly
 * those tensors, and MLX's weights must equal the quantizer's dequantized weights bit for bit.
 * {@code -Djround.mlx.fixtureDir=DIR} writes the export and its layer list for regenerating the fixture.
 */
class MlxLibraryFixtureTest {

    @TempDir
    Path tmp;

    static List<QuantizedLayer> seededLayers() {
        Random r = new Random(11);
        List<QuantizedLayer> layers = new ArrayList<>();
        int i = 0;
        for (int bits : new int[]{2, 3, 4, 5, 6, 8}) {
            for (int group : new int[]{32, 64, 128}) {
                for (boolean sym : new boolean[]{true, false}) {
                    LayerSpec s = new LayerSpec("model.layers." + i + ".mlp.up_proj", 128, 2, QuantScheme.intWeightOnly(bits, group, sym), i, false, "fixture");
                    layers.add(ExportFixture.randomLayer(s, null, true, r));
                    i++;
                }
            }
        }
        return layers;
    }

    static Path export(Path out, List<QuantizedLayer> layers) throws IOException {
        Path src = Files.createDirectories(out.resolveSibling(out.getFileName() + "-src"));
        ObjectNode cfg = new ObjectMapper().createObjectNode();
        cfg.put("model_type", "llama");
        cfg.put("dtype", "float32");
        Files.writeString(src.resolve("config.json"), cfg.toString());
        ExportContext ctx = ExportContext.builder().format("mlx").outputDir(out).config(ConfigJson.config(src, cfg)).sourceDir(src)
                .source(new MapTensorStore()).layers(layers.stream().map(QuantizedLayer::spec).toList())
                .blockPrefixes(List.of("model.layers")).options(Map.of()).build();
        try (ExportSession session = new MlxExporter().open(ctx)) {
            layers.forEach(session::addQuantized);
            session.finish();
        }
        StringBuilder list = new StringBuilder();
        for (QuantizedLayer l : layers) {
            list.append(l.name()).append(' ').append(l.bits()).append(' ').append(l.grid().groupSize()).append('\n');
        }
        Files.writeString(out.resolve("layers.txt"), list.toString());
        return out;
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(MlxLibraryFixtureTest.class.getResource("/mlx-library/" + name).toURI());
    }

    @Test
    void mlxsOwnDequantizeOfJroundsTensorsEqualsTheQuantizersWeights() throws IOException, URISyntaxException {
        List<QuantizedLayer> layers = seededLayers();
        String target = System.getProperty("jround.mlx.fixtureDir");
        Path out = export(target != null ? Path.of(target) : tmp.resolve("mlx"), layers);
        try (SafetensorsFile now = SafetensorsFile.open(out.resolve("model.safetensors"));
             SafetensorsFile committed = SafetensorsFile.open(fixture("model.safetensors"));
             SafetensorsFile byMlx = SafetensorsFile.open(fixture("mlx-dequantized.safetensors"))) {
            assertEquals(committed.names().stream().sorted().toList(), now.names().stream().sorted().toList());
            for (String n : committed.names()) {
                assertEquals(committed.get(n).data(), now.get(n).data(), n + ": the fixture MLX read is what jround writes today");
            }
            assertEquals(layers.size(), byMlx.names().size());
            for (QuantizedLayer l : layers) {
                assertArrayEquals(l.dequantized(), byMlx.get(l.name() + ".weight").toFloats(), 0f,
                        l.name() + " " + l.spec().scheme() + " as mx::dequantize decodes it");
            }
        }
    }
}
