package dev.jround.it.job;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain RTN through the whole job (load, resolve, quantize, pack, write) gives byte-identical tensors to
 * the reference AutoRound's exports of the same model and scheme.
 */
class ReferenceParityTest {

    @TempDir
    Path out;

    @ParameterizedTest(name = "{0} bits={1} sym={2} -> {3}")
    @CsvSource({
            "fake,       4, true,  fake_w4g32sym",
            "fake,       4, false, fake_w4g32asym",
            "fake,       3, true,  fake_w3g32sym",
            "fake,       2, true,  fake_w2g32sym",
            "auto_round, 4, true,  auto_round_w4g32sym",
            "auto_round, 4, false, auto_round_w4g32asym",
            "auto_round, 2, true,  auto_round_w2g32sym",
            "auto_gptq,  4, true,  auto_gptq_w4g32sym",
            "auto_gptq,  3, true,  auto_gptq_w3g32sym",
            "auto_awq,   4, false, auto_awq_w4g32asym",
    })
    void rtnExportMatchesReferenceBytes(String format, int bits, boolean sym, String reference) {
        Path model = Shared.aidreams();
        Path ref = Shared.referenceExport(reference);
        QuantizationJob.Result result = AutoRound.builder(model.toString())
                .scheme("W4A16").bits(bits).groupSize(32).sym(sym).iters(0).disableOptRtn(true)
                .build().quantizeAndSave(out, format);
        Path written = result.outputs().get(0);
        try (SafetensorsCheckpoint mine = SafetensorsCheckpoint.open(written);
             SafetensorsCheckpoint theirs = SafetensorsCheckpoint.open(ref)) {
            assertEquals(new TreeSet<>(theirs.names()), new TreeSet<>(mine.names()), "tensor names");
            for (String name : theirs.names()) {
                HostTensor a = mine.get(name);
                HostTensor b = theirs.get(name);
                assertEquals(b.dtype(), a.dtype(), name + " dtype");
                assertTrue(java.util.Arrays.equals(b.shape(), a.shape()), name + " shape");
                if (!b.data().equals(a.data())) {
                    float[] fa = a.toFloats();
                    float[] fb = b.toFloats();
                    int i = 0;
                    while (i < fa.length && Float.compare(fa[i], fb[i]) == 0) {
                        i++;
                    }
                    assertEquals(fb[i], fa[i], name + " differs first at element " + i);
                }
            }
        }
    }
}
