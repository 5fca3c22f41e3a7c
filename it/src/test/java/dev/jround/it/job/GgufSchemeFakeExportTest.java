package dev.jround.it.job;

import dev.jround.cli.JroundCli;
import dev.jround.it.TinyLlama;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.tensor.TensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** A GGUF scheme exported as fake (dequantized) weights: the GGUF payload has no integer grid, which used to crash. */
class GgufSchemeFakeExportTest {

    @TempDir
    Path tmp;

    @Test
    void ggufSchemeGoesToTheFakeFormat() throws IOException {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "quantize",
                "--model", model.toString(), "--scheme", "GGUF:Q4_K_M", "--format", "fake", "--iters", "0",
                "--disable_opt_rtn", "--output_dir", tmp.resolve("out").toString());
        assertEquals(0, code, err.toString());
        String w = "model.layers.0.self_attn.q_proj.weight";
        try (TensorStore in = SafetensorsCheckpoint.open(model);
             TensorStore out = SafetensorsCheckpoint.open(tmp.resolve("out/tiny-w4g32"))) {
            float[] a = in.floats(w);
            float[] b = out.floats(w);
            assertEquals(a.length, b.length);
            assertFalse(Arrays.equals(a, b), "the fake export holds the GGUF-dequantized weights");
        }
    }
}
