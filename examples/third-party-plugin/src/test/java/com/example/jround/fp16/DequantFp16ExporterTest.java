package com.example.jround.fp16;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.SchemePreset;
import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DequantFp16ExporterTest {

    @Test
    void serviceFilesDeclareBothPlugins() {
        // what the CLI's ServiceLoader sees; bnd turns the same files into the host's OSGi services
        assertTrue(ServiceLoader.load(Exporter.class).stream()
                .anyMatch(p -> p.get().formats().contains(DequantFp16Exporter.FORMAT)));
        SchemePreset preset = ServiceLoader.load(SchemePreset.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.presets().containsKey(ExamplePresets.NAME)).findFirst().orElseThrow();
        assertEquals(QuantScheme.intWeightOnly(3, 64, false), preset.presets().get(ExamplePresets.NAME));
    }

    @Test
    void writesEveryTensorAsFloat16(@TempDir Path tmp) throws IOException {
        QuantScheme scheme = new ExamplePresets().presets().get(ExamplePresets.NAME);
        ExportFixture fx = new ExportFixture(tmp, true, name -> name.equals("lm_head") ? QuantScheme.FULL_PRECISION : scheme,
                true, 7);
        Path out = fx.export(new DequantFp16Exporter(), tmp.resolve("out"), DequantFp16Exporter.FORMAT, Map.of(), Long.MAX_VALUE);

        int tensors = fx.quantized.size() + fx.floats.size();
        try (SafetensorsFile st = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            for (String name : st.names()) {
                assertEquals(DType.F16, st.info(name).orElseThrow().dtype(), name);
            }
            for (QuantizedLayer q : fx.quantized.values()) {
                HostTensor w = st.get(q.name() + ".weight");
                assertArrayEquals(new long[]{q.rows(), q.cols()}, w.shape());
                assertArrayEquals(roundedToF16(q.dequantized()), w.toFloats(), q.name());
                if (q.bias() != null) {
                    assertArrayEquals(roundedToF16(q.bias()), st.get(q.name() + ".bias").toFloats(), q.name());
                    tensors++;
                }
            }
            for (var e : fx.floats.entrySet()) {
                assertArrayEquals(roundedToF16(e.getValue().toFloats()), st.get(e.getKey()).toFloats(), e.getKey());
            }
            assertEquals(tensors, st.names().size());
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode config = json.readTree(out.resolve("config.json").toFile());
        assertEquals("float16", config.path("torch_dtype").asText());
        assertFalse(config.has("quantization_config"));
        assertFalse(Files.exists(out.resolve("quantization_config.json")));
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        JsonNode summary = json.readTree(out.resolve(DequantFp16Session.SUMMARY).toFile());
        JsonNode layer = summary.path("quantized_layers").path("model.layers.0.mlp.down_proj");
        assertEquals(3, layer.path("bits").asInt());
        assertEquals(64, layer.path("group_size").asInt());
        assertFalse(layer.path("sym").asBoolean(true));
        assertEquals(fx.quantized.size(), summary.path("quantized_layers").size());
    }

    @Test
    void refusesValuesBeyondFloat16() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> DequantFp16Session.toF16("model.norm.weight", new float[]{1f, 70000f}, 2));
        assertTrue(e.getMessage().contains("model.norm.weight"), e.getMessage());
        assertEquals(Float.POSITIVE_INFINITY, DequantFp16Session.toF16("x", new float[]{Float.POSITIVE_INFINITY}, 1)
                .toFloats()[0]); // an infinity in the source stays one; only finite values that would overflow are refused
    }

    private static float[] roundedToF16(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Floats.roundToF16(v[i]);
        }
        return r;
    }
}
