package dev.jround.plugin.llmcompressor;

import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.PackedConverter;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The reference AutoRound's GPTQ / AWQ / auto_round exports of aidreams260K converted to llm_compressor without
 * re-quantizing: codes, zero points and scales survive exactly, and the converted checkpoint dequantizes to the
 * source's weights and, numerically, to the reference's own fake export of the same run.
 */
class ConvertToLlmCompressorTest {

    @ParameterizedTest
    @CsvSource({
            "auto_gptq_w4g32sym, fake_w4g32sym",
            "auto_gptq_w3g32sym, fake_w3g32sym",
            "auto_awq_w4g32asym, fake_w4g32asym",
            "auto_round_w4g32asym, fake_w4g32asym",
            "auto_round_w2g32sym, fake_w2g32sym",
    })
    void convertsExactly(String source, String fake, @TempDir Path tmp) throws Exception {
        Path exports = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models/aidreams260K-reference-exports");
        assumeTrue(Files.isDirectory(exports), "reference exports not present");
        Path out = Files.createDirectories(tmp.resolve("out"));
        try (PackedCheckpoint in = PackedCheckpoint.open(exports.resolve(source))) {
            PackedConverter.Result r = PackedConverter.convert(in, new LlmCompressorExporter(), LlmCompressorExporter.FORMAT, out, 5_000_000_000L);
            assertEquals(16, r.packedLayers());
            try (CompressedTensorsCheckpoint conv = CompressedTensorsCheckpoint.open(out);
                 SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(exports.resolve(fake))) {
                assertEquals(new TreeSet<>(in.packedModules()), new TreeSet<>(conv.compressedModules()));
                for (String m : in.packedModules()) {
                    QuantizedLayer a = in.layer(m);
                    QuantizedLayer b = conv.layer(m, in.blockIndex(m));
                    assertArrayEquals(a.grid().codes(), b.grid().codes(), m);
                    assertArrayEquals(a.grid().zeros(), b.grid().zeros(), m);
                    assertArrayEquals(a.grid().scales(), b.grid().scales(), m);
                    assertArrayEquals(a.dequantized(), b.dequantized(), m);
                    float[] f = ref.floats(m + ".weight");
                    float[] w = b.dequantized();
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(f[i] + 0f, w[i] + 0f, m + "[" + i + "] against the reference fake export");
                    }
                }
                for (String n : in.tensors().names()) {
                    if (!in.isPackedTensor(n)) {
                        assertEquals(in.tensors().get(n).data(), conv.tensors().get(n).data(), n);
                    }
                }
            }
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
    }
}
