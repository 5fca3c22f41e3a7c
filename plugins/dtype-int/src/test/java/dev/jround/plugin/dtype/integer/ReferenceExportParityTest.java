package dev.jround.plugin.dtype.integer;

import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.lib.safetensors.SafetensorsFile;
import dev.jround.spi.tensor.TensorInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Plain RTN of the 64x64 projections of aidreams260K equals, bit for bit, what the reference AutoRound wrote. */
class ReferenceExportParityTest {

    @ParameterizedTest
    @CsvSource({"fake_w4g32sym,4,true", "fake_w4g32asym,4,false", "fake_w2g32sym,2,true", "fake_w3g32sym,3,true"})
    void rtnMatchesReferenceFakeExport(String folder, int bits, boolean sym) {
        String shared = System.getProperty("jround.shared");
        assumeTrue(shared != null, "jround.shared not set");
        Path models = Path.of(shared, "models");
        Path original = models.resolve("aidreams260K/model.safetensors");
        Path exported = models.resolve("aidreams260K-reference-exports").resolve(folder).resolve("model.safetensors");
        assumeTrue(Files.isRegularFile(original) && Files.isRegularFile(exported), "shared models absent");
        IntDataType type = new IntDataType();
        QuantScheme scheme = QuantScheme.intWeightOnly(bits, 32, sym);
        int compared = 0;
        try (SafetensorsFile in = SafetensorsFile.open(original); SafetensorsFile out = SafetensorsFile.open(exported)) {
            for (String name : in.names()) {
                if (!name.matches("model\\.layers\\.\\d+\\.self_attn\\.[qkvo]_proj\\.weight")) {
                    continue;
                }
                TensorInfo info = in.info(name).orElseThrow();
                int rows = (int) info.shape()[0];
                int cols = (int) info.shape()[1];
                LayerSpec spec = new LayerSpec(name.substring(0, name.length() - 7), cols, rows, scheme, 0, false, "test");
                QuantizedLayer q = type.quantize(spec, in.floats(name), null, null, null, null, null, false);
                float[] expected = out.floats(name);
                assertEquals(expected.length, q.dequantized().length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(q.dequantized()[i]), name + "[" + i + "]");
                }
                compared++;
            }
        }
        assertEquals(16, compared);
    }

    @ParameterizedTest
    @CsvSource({"W4A16,4,128", "W8A16,8,128", "W3A16,3,128", "W2A16,2,128", "W2A16G64,2,64", "W2A16G32,2,32"})
    void presetsAreSymmetricIntWeightOnly(String name, int bits, int group) {
        QuantScheme s = new IntSchemePresets().presets().get(name);
        assertEquals(QuantScheme.intWeightOnly(bits, group, true), s);
    }

    @ParameterizedTest
    @CsvSource({"BF16"})
    void bf16KeepsHighPrecision(String name) {
        QuantScheme s = new IntSchemePresets().presets().get(name);
        assertEquals(16, s.bits());
        assertEquals(128, s.groupSize());
        assertEquals(false, s.quantizesWeights());
        assertArrayEquals(new Object[] {"fp", 16}, new Object[] {s.dataType(), s.actBits()});
    }
}
