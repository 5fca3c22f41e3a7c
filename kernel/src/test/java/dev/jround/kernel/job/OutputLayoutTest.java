package dev.jround.kernel.job;

import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputLayoutTest {

    private static final QuantScheme W4G128 = QuantScheme.intWeightOnly(4, 128, true);
    /** What the GGUF exporter declares as its run-directory suffix. */
    private static final Optional<String> GGUF = Optional.of("gguf");

    @Test
    void followsAutoRoundsNaming() {
        Path out = Path.of("/o");
        assertEquals(out.resolve("llama-w4g128"), OutputLayout.runDirectory(out, "models/llama", W4G128, Optional.empty()));
        assertEquals(out.resolve("Qwen3-8B-gguf"), OutputLayout.runDirectory(out, "Qwen/Qwen3-8B", W4G128, GGUF));
    }

    /** AutoRound writes into output_dir itself for a model path of dots; jround names the directory it means. */
    @Test
    void aModelPathOfDotsNamesTheDirectoryItResolvesTo() {
        Path out = Path.of("/o");
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(out.resolve(cwd.getFileName() + "-gguf"), OutputLayout.runDirectory(out, ".", W4G128, GGUF));
        assertEquals(out.resolve(cwd.getParent().getFileName() + "-w4g128"), OutputLayout.runDirectory(out, "..", W4G128, Optional.empty()));
        assertEquals(out.resolve("llama-gguf"), OutputLayout.runDirectory(out, "/m/llama/.", W4G128, GGUF));
        assertEquals(out.resolve("model-gguf"), OutputLayout.runDirectory(out, "/", W4G128, GGUF));
    }
}
