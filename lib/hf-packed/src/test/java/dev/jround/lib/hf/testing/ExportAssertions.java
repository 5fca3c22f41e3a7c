package dev.jround.lib.hf.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Checks an export against the quantizer records it was made from, through {@link SpecDecoder}. */
public final class ExportAssertions {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ExportAssertions() {
    }

    /**
     * Decodes every quantized layer of an export with {@link SpecDecoder} and checks it against the records.
     * {@code layout}: {@code v1}, {@code v2}, {@code gptqmodel} (v2 + g_idx), {@code gptq} (v1 + g_idx) or {@code awq}.
     */
    public static void assertDecodesExactly(ExportFixture f, Path out, String layout) {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            for (QuantizedLayer l : f.quantized.values()) {
                String m = l.name();
                int outF = l.rows();
                int in = l.cols();
                int ng = l.groupsPerRow();
                int bits = l.bits();
                int[] codes;
                int[] zeros;
                HostTensor qw = c.get(m + ".qweight");
                HostTensor qz = c.get(m + ".qzeros");
                HostTensor sc = c.get(m + ".scales");
                assertEquals(DType.I32, qw.dtype());
                assertEquals(DType.F16, sc.dtype());
                assertArrayEquals(new long[]{ng, outF}, sc.shape(), m + ".scales shape");
                if (layout.equals("awq")) {
                    assertArrayEquals(new long[]{in, outF / 8}, qw.shape(), m + ".qweight shape");
                    assertArrayEquals(new long[]{ng, outF / 8}, qz.shape(), m + ".qzeros shape");
                    codes = SpecDecoder.awq(qw.toInts(), outF, in);
                    zeros = SpecDecoder.awq(qz.toInts(), outF, ng);
                } else {
                    assertArrayEquals(new long[]{in * bits / 32, outF}, qw.shape(), m + ".qweight shape");
                    assertArrayEquals(new long[]{ng, outF * bits / 32}, qz.shape(), m + ".qzeros shape");
                    codes = SpecDecoder.gptqCodes(qw.toInts(), outF, in, bits);
                    zeros = SpecDecoder.gptqZeros(qz.toInts(), outF, ng, bits, layout.equals("v1") || layout.equals("gptq"));
                }
                boolean gIdx = layout.equals("gptqmodel") || layout.equals("gptq");
                assertEquals(gIdx, c.contains(m + ".g_idx"), m + ".g_idx presence");
                if (gIdx) {
                    int[] gi = c.get(m + ".g_idx").toInts();
                    for (int k = 0; k < in; k++) {
                        assertEquals(k / l.grid().groupSize(), gi[k]);
                    }
                }
                assertFalse(c.contains(m + ".weight"), "no float weight for a packed layer");
                assertArrayEquals(l.grid().codes(), codes, m + " codes");
                assertArrayEquals(l.grid().zeros(), zeros, m + " zeros");
                float[] scales = SpecDecoder.transpose(sc.toFloats(), ng, outF);
                assertArrayEquals(l.grid().scales(), scales, m + " scales");
                for (int n = 0; n < outF; n++) {
                    for (int k = 0; k < in; k++) {
                        int gi = n * ng + k / l.grid().groupSize();
                        float w = scales[gi] * (float) (codes[n * in + k] - zeros[gi]);
                        assertEquals(Float.floatToRawIntBits(l.dequantized()[n * in + k]), Float.floatToRawIntBits(w), m + " dequantized");
                    }
                }
                if (l.bias() != null) {
                    HostTensor b = c.get(m + ".bias");
                    assertEquals(DType.F16, b.dtype());
                }
            }
            for (String n : f.floats.keySet()) {
                assertEquals(f.floats.get(n).data(), c.get(n).data(), n + " copied unchanged");
            }
        }
    }

    public static JsonNode qc(Path out) throws IOException {
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        JsonNode standalone = JSON.readTree(out.resolve("quantization_config.json").toFile());
        assertEquals(cfg.get("quantization_config"), standalone, "quantization_config.json mirrors config.json");
        return standalone;
    }

}
