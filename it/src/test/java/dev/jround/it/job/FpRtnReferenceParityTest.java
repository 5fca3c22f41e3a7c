package dev.jround.it.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.lib.safetensors.SafetensorsFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RTN parity on the real model: {@code --iters 0 --disable_opt_rtn} fake exports of aidreams260K at MXFP4, MXFP8,
 * NVFP4 and FPW8A16 hold, for every quantized linear weight, exactly the values the reference's own RTN functions
 * give (sha256 of the float32 values, tools/fixtures/quant/make_fp_rtn_hashes.py); every other tensor is unchanged.
 * NVFP4 is compared with one global scale per layer (the reference's AR_NVFP4_FUSED_LAYER_GLOBAL_SCALE=0).
 */
class FpRtnReferenceParityTest {

    @TempDir
    Path out;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"MXFP4", "MXFP8", "NVFP4", "FPW8A16"})
    void fakeExportMatchesTheReferenceFunctions(String scheme) throws Exception {
        Path model = Shared.aidreams();
        JsonNode expected;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/fp_rtn_reference_hashes.json")) {
            expected = new ObjectMapper().readTree(in).get("schemes").get(scheme);
        }
        QuantizationJob.Result r = AutoRound.builder(model.toString()).scheme(scheme).iters(0).disableOptRtn(true)
                .build().quantizeAndSave(out, "fake");
        int hashed = 0;
        try (SafetensorsFile got = SafetensorsFile.open(r.outputs().get(0).resolve("model.safetensors"));
             SafetensorsFile orig = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            for (String name : got.names()) {
                float[] values = got.get(name).toFloats();
                JsonNode hash = expected.get(name);
                if (hash == null) {
                    assertArrayEquals(orig.get(name).toFloats(), values, name + " is not quantized and must be unchanged");
                    continue;
                }
                ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(values);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
                assertEquals(hash.asText(), sha, scheme + " " + name + " differs from the reference's RTN");
                hashed++;
            }
        }
        assertEquals(expected.size(), hashed, "every tensor the reference quantizes is in the export");
        assertTrue(hashed >= 24);
    }
}
