package dev.jround.kernel.job;

import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputLayoutTest {

    private static final QuantScheme W4G128 = QuantScheme.intWeightOnly(4, 128, true);

    @Test
    void followsAutoRoundsNaming() {
        Path out = Path.of("/o");
        assertEquals(out.resolve("llama-w4g128"), OutputLayout.runDirectory(out, "models/llama", W4G128, List.of("auto_round")));
        assertEquals(out.resolve("Qwen3-8B-gguf"), OutputLayout.runDirectory(out, "Qwen/Qwen3-8B", W4G128, List.of("gguf:q4_k_m")));
    }

    /** AutoRound writes into output_dir itself for a model path of dots; jround names the directory it means. */
    @Test
    void aModelPathOfDotsNamesTheDirectoryItResolvesTo() {
        Path out = Path.of("/o");
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(out.resolve(cwd.getFileName() + "-gguf"), OutputLayout.runDirectory(out, ".", W4G128, List.of("gguf:q4_k_m")));
        assertEquals(out.resolve(cwd.getParent().getFileName() + "-w4g128"), OutputLayout.runDirectory(out, "..", W4G128, List.of("fake")));
        assertEquals(out.resolve("llama-gguf"), OutputLayout.runDirectory(out, "/m/llama/.", W4G128, List.of("gguf:q4_k_m")));
        assertEquals(out.resolve("model-gguf"), OutputLayout.runDirectory(out, "/", W4G128, List.of("gguf:q4_k_m")));
    }
}
