package dev.jround.lib.hf.testing;

import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The exporters' cross-check with the Python world. A test's {@code src/test/resources/crosscheck/<case>/} holds a
 * checkpoint its exporter wrote for a seeded {@link ExportFixture} and {@code dequantized.safetensors}, the weights an
 * independent Python dequantizer (tools/fixtures/export/dequantize.py) read from it. With
 * {@code -Djround.crosscheck.write=DIR} the checkpoints are (re)written into DIR instead of checked.
 */
public final class PythonCrossCheck {

    private PythonCrossCheck() {
    }

    /**
     * Checks that the export {@code out} of {@code f} still has exactly the fixture's bytes, that Python's weights
     * equal the quantizer's and that jround's packed-checkpoint reader decodes the same weights as Python.
     *
     * @param test  the test class, whose class path holds the {@code /crosscheck/<name>/} resources
     * @param files the files the case keeps (model.safetensors and the configs), copied in write mode
     */
    public static void assertPythonReadsExport(ExportFixture f, Path out, String name, Class<?> test, String... files)
            throws Exception {
        String target = System.getProperty("jround.crosscheck.write");
        if (target != null) {
            Path dir = Files.createDirectories(Path.of(target).resolve(name));
            for (String file : files) {
                Files.copy(out.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            return;
        }
        Path fixture = Path.of(test.getResource("/crosscheck/" + name + "/model.safetensors").toURI()).getParent();
        assertArrayEquals(Files.readAllBytes(fixture.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")),
                "the exporter no longer writes the bytes the Python fixture was made from; regenerate (tools/fixtures/export/README.md)");
        try (SafetensorsCheckpoint py = SafetensorsCheckpoint.open(fixture.resolve("dequantized.safetensors"))) {
            assertEquals(f.quantized.size(), py.names().size());
            for (QuantizedLayer l : f.quantized.values()) {
                assertArrayEquals(l.dequantized(), py.floats(l.name() + ".weight"), l.name() + ": Python's dequantization differs");
            }
            // jround's own loader (the reader behind the hf-packed loader and convert) agrees with Python on the same files
            try (PackedCheckpoint mine = PackedCheckpoint.open(fixture)) {
                assertEquals(new TreeSet<>(f.quantized.keySet()), new TreeSet<>(mine.packedModules()));
                for (String m : mine.packedModules()) {
                    assertArrayEquals(py.floats(m + ".weight"), mine.unpack(m).dequantize(), m);
                }
            }
        }
    }
}
