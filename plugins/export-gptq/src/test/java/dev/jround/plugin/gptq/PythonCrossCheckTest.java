package dev.jround.plugin.gptq;

import dev.jround.spi.pack.PackedCheckpoint;
import dev.jround.spi.pack.testing.ExportFixture;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.SafetensorsCheckpoint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Cross-check with the Python world. {@code src/test/resources/crosscheck/<case>/} holds a checkpoint this
 * exporter wrote for a seeded tiny model and {@code dequantized.safetensors}, the weights an independent
 * Python dequantizer following the consumers' conventions (tools/fixtures/export/dequantize.py) read from
 * it. The exporter must still write exactly those bytes, and Python's weights must equal the quantizer's and
 * what jround's packed-checkpoint reader decodes.
 * With {@code -Djround.crosscheck.write=DIR} the checkpoints are (re)written into DIR instead.
 */
class PythonCrossCheckTest {

    static Function<String, QuantScheme> schemes(String name) {
        return switch (name) {
            case "auto_gptq_w4_mixed" -> n -> switch (n) {
                case "lm_head" -> QuantScheme.intWeightOnly(8, 32, true);
                case "model.layers.0.self_attn.k_proj" -> QuantScheme.intWeightOnly(8, 32, true);
                case "model.layers.1.mlp.down_proj" -> QuantScheme.FULL_PRECISION;
                default -> QuantScheme.intWeightOnly(4, 32, true);
            };
            case "auto_gptq_w3sym" -> n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION : QuantScheme.intWeightOnly(3, 32, true);
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto_gptq_w4_mixed", "auto_gptq_w3sym"})
    void pythonReadsWhatJroundWrites(String name, @TempDir Path tmp) throws Exception {
        ExportFixture f = new ExportFixture(tmp, false, schemes(name), false, name.hashCode());
        Path out = f.export(new GptqExporter(), tmp.resolve("out"), "auto_gptq", Map.of("autoround_version", "jround-crosscheck"), Long.MAX_VALUE);
        String target = System.getProperty("jround.crosscheck.write");
        if (target != null) {
            Path dir = Files.createDirectories(Path.of(target).resolve(name));
            for (String file : new String[]{"model.safetensors", "config.json", "quantization_config.json", "quantize_config.json"}) {
                Files.copy(out.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            return;
        }
        Path fixture = Path.of(getClass().getResource("/crosscheck/" + name + "/model.safetensors").toURI()).getParent();
        assertArrayEquals(Files.readAllBytes(fixture.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")),
                "the exporter no longer writes the bytes the Python fixture was made from; regenerate (tools/fixtures/export/README.md)");
        try (SafetensorsCheckpoint py = SafetensorsCheckpoint.open(fixture.resolve("dequantized.safetensors"))) {
            assertEquals(f.quantized.size(), py.names().size());
            for (QuantizedLayer l : f.quantized.values()) {
                assertArrayEquals(l.dequantized(), py.floats(l.name() + ".weight"), l.name() + ": Python's dequantization differs");
            }
            // jround's own loader (the reader behind infer-packed and convert) agrees with Python on the same files
            try (PackedCheckpoint mine = PackedCheckpoint.open(fixture)) {
                assertEquals(new java.util.TreeSet<>(f.quantized.keySet()), new java.util.TreeSet<>(mine.packedModules()));
                for (String m : mine.packedModules()) {
                    assertArrayEquals(py.floats(m + ".weight"), mine.unpack(m).dequantize(), m);
                }
            }
        }
    }
}
