package dev.jround.plugin.autoround;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.PackedConverter;
import dev.jround.lib.hf.PackedLayout;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * GPTQ and AWQ checkpoints written by the Python tools, converted to auto_round without re-quantization:
 * the integer contents must survive exactly, and where the reference wrote the same model as auto_round
 * itself, the converted tensors must equal its bytes.
 */
class ConvertTest {

    @ParameterizedTest
    @CsvSource({
            "auto_gptq_w4g32sym, auto_round:auto_gptq, GPTQ_V1, auto_round_w4g32sym",
            "auto_gptq_w3g32sym, auto_round:auto_gptq, GPTQ_V1, ",
            "auto_awq_w4g32asym, auto_round:auto_awq, AWQ, auto_round_w4g32asym",
            "auto_round_w2g32sym, auto_round:auto_gptq, GPTQ_V1, auto_round_w2g32sym",
    })
    void convertsExactly(String source, String packing, PackedLayout layout, String sameAsReference, @TempDir Path tmp) throws Exception {
        Path exports = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models/aidreams260K-reference-exports");
        assumeTrue(Files.isDirectory(exports), "reference exports not present");
        Path out = Files.createDirectories(tmp.resolve("out"));
        try (PackedCheckpoint in = PackedCheckpoint.open(exports.resolve(source))) {
            PackedConverter.Result r = PackedConverter.convert(in, new AutoRoundExporter(), "auto_round", out, 5_000_000_000L);
            assertEquals(16, r.packedLayers());
            try (PackedCheckpoint conv = PackedCheckpoint.open(out)) {
                assertEquals(PackedCheckpoint.Kind.AUTO_ROUND, conv.kind());
                assertEquals(packing, conv.packingFormat());
                assertEquals(layout, conv.layout());
                assertEquals(new TreeSet<>(in.packedModules()), new TreeSet<>(conv.packedModules()));
                for (String m : in.packedModules()) {
                    QuantizedLayer a = in.layer(m);
                    QuantizedLayer b = conv.layer(m);
                    assertArrayEquals(a.grid().codes(), b.grid().codes(), m);
                    assertArrayEquals(a.grid().zeros(), b.grid().zeros(), m);
                    assertArrayEquals(a.grid().scales(), b.grid().scales(), m);
                    assertArrayEquals(a.dequantized(), b.dequantized(), m);
                    assertEquals(a.spec().scheme(), b.spec().scheme(), m);
                }
                for (String n : in.tensors().names()) {
                    if (!in.isPackedTensor(n)) {
                        assertEquals(in.tensors().get(n).data(), conv.tensors().get(n).data(), n);
                    }
                }
                if (sameAsReference != null) {
                    try (PackedCheckpoint ref = PackedCheckpoint.open(exports.resolve(sameAsReference))) {
                        for (String n : ref.tensors().names()) {
                            assertEquals(ref.tensors().get(n).data(), conv.tensors().get(n).data(), n + " equals the reference's auto_round bytes");
                        }
                        var json = new ObjectMapper();
                        assertEquals(json.readTree(exports.resolve(sameAsReference).resolve("config.json").toFile()).get("quantization_config").get("extra_config"),
                                json.readTree(out.resolve("config.json").toFile()).get("quantization_config").get("extra_config"));
                    }
                }
            }
        }
        assertEquals(true, Files.isRegularFile(out.resolve("tokenizer.json")));
    }
}
