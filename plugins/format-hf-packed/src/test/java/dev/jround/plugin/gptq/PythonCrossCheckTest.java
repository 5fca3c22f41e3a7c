package dev.jround.plugin.gptq;

import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.lib.hf.testing.PythonCrossCheck;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

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
        PythonCrossCheck.assertPythonReadsExport(f, out, name, getClass(), "model.safetensors", "config.json", "quantization_config.json", "quantize_config.json");
    }
}
