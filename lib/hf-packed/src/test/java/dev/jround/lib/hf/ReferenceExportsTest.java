package dev.jround.lib.hf;

import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The checkpoints written by the Python reference AutoRound: unpacking them must give weights equal bit for
 * bit to the reference's fake-quantized export, and re-packing the unpacked codes must give the reference's
 * bytes back.
 */
class ReferenceExportsTest {

    static Path exports() {
        Path p = Path.of(System.getProperty("jround.shared", "../shared")).resolve("models/aidreams260K-reference-exports");
        assumeTrue(Files.isDirectory(p), "reference exports not present: " + p);
        return p;
    }

    @ParameterizedTest
    @CsvSource({
            "auto_round_w4g32sym, fake_w4g32sym, AUTO_ROUND, GPTQ_V1, 4, false",
            "auto_round_w2g32sym, fake_w2g32sym, AUTO_ROUND, GPTQ_V1, 2, false",
            "auto_round_w4g32asym, fake_w4g32asym, AUTO_ROUND, AWQ, 4, false",
            "auto_gptq_w4g32sym, fake_w4g32sym, GPTQ, GPTQ_V1, 4, true",
            "auto_gptq_w3g32sym, fake_w3g32sym, GPTQ, GPTQ_V1, 3, true",
            "auto_awq_w4g32asym, fake_w4g32asym, AWQ, AWQ, 4, false",
    })
    void unpacksToTheFakeWeightsAndRepacksToTheSameBytes(String packed, String fake, PackedCheckpoint.Kind kind,
                                                          PackedLayout layout, int bits, boolean gIdx) {
        Path root = exports();
        try (PackedCheckpoint ckpt = PackedCheckpoint.open(root.resolve(packed));
             SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(root.resolve(fake))) {
            assertEquals(kind, ckpt.kind());
            assertEquals(layout, ckpt.layout());
            assertEquals(16, ckpt.packedModules().size(), "q/k/v/o of 4 blocks are packed");
            assertEquals(java.util.List.of("model.layers"), ckpt.blockPrefixes());
            for (String m : ckpt.packedModules()) {
                QuantizedLayer l = ckpt.layer(m);
                assertEquals(bits, l.bits());
                assertEquals(32, l.grid().groupSize());
                assertEquals(ckpt.blockIndex(m), Integer.parseInt(m.split("\\.")[2]));
                float[] want = ref.floats(m + ".weight");
                assertEquals(want.length, l.dequantized().length);
                for (int i = 0; i < want.length; i++) {
                    // numeric equality: the reference's fake weight keeps the sign of the original weight where the code
                    // equals the zero point (+0.0 vs -0.0), which the packed codes cannot know
                    if (want[i] != l.dequantized()[i]) {
                        throw new AssertionError(packed + " " + m + " element " + i + ": " + l.dequantized()[i] + " != fake " + want[i]);
                    }
                }
                for (int c : l.grid().codes()) {
                    assertTrue(c >= 0 && c < (1 << bits));
                }
                Map<String, HostTensor> again = layout.pack(l, gIdx);
                for (Map.Entry<String, HostTensor> e : again.entrySet()) {
                    HostTensor stored = ckpt.tensors().get(m + "." + e.getKey());
                    assertEquals(stored.dtype(), e.getValue().dtype(), m + "." + e.getKey());
                    assertArrayEquals(stored.shape(), e.getValue().shape(), m + "." + e.getKey());
                    assertEquals(stored.data(), e.getValue().data(), m + "." + e.getKey() + " bytes differ");
                }
                assertTrue(ckpt.isPackedTensor(m + ".qweight"));
                assertFalse(ckpt.isPackedTensor(m.replace("self_attn.q_proj", "input_layernorm") + ".weight"));
            }
            for (String n : ckpt.tensors().names()) {
                if (!ckpt.isPackedTensor(n)) {
                    assertArrayEquals(ref.floats(n), ckpt.tensors().floats(n), n + " kept in float must equal the fake export");
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void fakeCheckpointsReadAsFloat() {
        try (PackedCheckpoint ckpt = PackedCheckpoint.open(exports().resolve("fake_w4g32sym"))) {
            assertEquals(PackedCheckpoint.Kind.FLOAT, ckpt.kind());
            assertNull(ckpt.layout());
            assertTrue(ckpt.packedModules().isEmpty());
            assertTrue(PackedCheckpoint.readable(exports().resolve("fake_w4g32sym")));
            assertFalse(PackedCheckpoint.readable(exports().resolve("gguf_q4_0")));
        }
    }
}
