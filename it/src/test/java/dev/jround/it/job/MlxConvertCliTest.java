package dev.jround.it.job;

import dev.jround.cli.JroundCli;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.lib.safetensors.SafetensorsWriter;
import dev.jround.spi.tensor.HostTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jround convert} reads MLX checkpoints through the inference backend's re-pack capability: one RTN pass of a
 * tiny Llama writes auto_round, auto_gptq and mlx; converting the mlx output gives the direct exports' tensors byte for
 * byte. An MLX layer whose biases are not {@code -scale*integer} (mlx-lm's min/max quantization) is refused with one
 * line naming the layer, and no output appears.
 */
class MlxConvertCliTest {

    @TempDir
    static Path tmp;

    static List<Path> outputs;

    @BeforeAll
    static void quantizeOnce() throws IOException {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false)
                .iters(0).disableOptRtn(true).build().quantizeAndSave(tmp.resolve("out"), "auto_round", "auto_gptq", "mlx");
        outputs = result.outputs();
        assertEquals(3, outputs.size());
    }

    @Test
    void mlxConvertsToAutoRoundExactlyAsTheDirectExport() throws IOException {
        assertConvertsTo("auto_round", outputs.get(0));
    }

    @Test
    void mlxConvertsToAutoGptqExactlyAsTheDirectExport() throws IOException {
        assertConvertsTo("auto_gptq", outputs.get(1));
    }

    @Test
    void minMaxBiasesAreRefusedNamingTheLayer() throws IOException {
        Path mlx = outputs.get(2);
        Path bad = Files.createDirectories(tmp.resolve("minmax-mlx"));
        Files.copy(mlx.resolve("config.json"), bad.resolve("config.json"));
        String layer = "model.layers.1.mlp.up_proj";
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(mlx)) {
            for (String n : c.names()) {
                tensors.put(n, c.get(n));
            }
        }
        // min/max quantization's bias is the group's minimum, in general not -scale*z for any integer z
        HostTensor biases = tensors.get(layer + ".biases");
        float[] b = biases.toFloats();
        float[] s = tensors.get(layer + ".scales").toFloats();
        b[5] += 0.37f * s[5]; // row 2, group 1
        tensors.put(layer + ".biases", HostTensor.ofFloats(b, biases.dtype(), biases.shape()));
        SafetensorsWriter.writeAll(bad, tensors, Map.of("format", "mlx"));

        Path out = tmp.resolve("minmax-converted");
        StringWriter stderr = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(stderr, true),
                "convert", "--model", bad.toString(), "--format", "auto_round", "--output_dir", out.toString());
        String err = stderr.toString();
        assertTrue(code != 0, err);
        List<String> errors = err.lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errors.size(), err);
        assertTrue(errors.get(0).contains(layer + " (row 2, group 1)"), "64 inputs are 2 groups a row, so index 5 is row 2, group 1: " + errors.get(0));
        assertFalse(err.lines().anyMatch(l -> l.matches("\\s+at [\\w.$]+\\(.*")), err);
        assertFalse(Files.exists(out), "nothing is written for a refused input");
        try (Stream<Path> s2 = Files.list(tmp)) {
            assertTrue(s2.noneMatch(p -> p.getFileName().toString().startsWith("minmax-converted")), "no partial output left");
        }
    }

    private static void assertConvertsTo(String format, Path direct) throws IOException {
        Path out = tmp.resolve("converted-" + format);
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(stdout, true), new PrintWriter(stderr, true),
                "convert", "--model", outputs.get(2).toString(), "--format", format, "--output_dir", out.toString());
        assertEquals(0, code, stderr.toString());
        assertTrue(stdout.toString().contains("14 packed layers re-packed"), stdout.toString());
        try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(direct); SafetensorsCheckpoint b = SafetensorsCheckpoint.open(out)) {
            assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()), format + " tensor names");
            for (String n : a.names()) {
                assertEquals(a.get(n).dtype(), b.get(n).dtype(), format + " " + n);
                assertEquals(a.get(n).data(), b.get(n).data(), format + " " + n);
            }
        }
    }
}
