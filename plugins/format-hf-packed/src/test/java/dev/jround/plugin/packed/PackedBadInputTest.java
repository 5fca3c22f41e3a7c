package dev.jround.plugin.packed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packed backend refuses a bad checkpoint at load time, before the architecture asks for a weight. */
class PackedBadInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    Path dir;

    private Path checkpoint(int bits, HostTensor gIdx) throws Exception {
        ObjectNode c = JSON.createObjectNode().put("model_type", "llama");
        c.putObject("quantization_config").put("quant_method", "gptq").put("bits", bits).put("group_size", 32).put("sym", true);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(c));
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put(Q + ".qweight", HostTensor.ofInts(new int[4 * 32], 4, 32));
        t.put(Q + ".qzeros", HostTensor.ofInts(new int[4], 1, 4));
        t.put(Q + ".scales", HostTensor.ofFloats(new float[32], DType.F16, 1, 32));
        t.put(Q + ".g_idx", gIdx);
        SafetensorsWriter.writeAll(dir, t, Map.of());
        return dir;
    }

    @Test
    void bits99IsRefusedWhenLoading() throws Exception {
        Path p = checkpoint(99, HostTensor.ofInts(new int[32], 32));
        PackedInferenceBackend b = new PackedInferenceBackend();
        assertTrue(b.canLoad(p));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> b.load(p).close());
        assertTrue(e.getMessage().contains("quantization_config.bits is 99"), e.getMessage());
    }

    @Test
    void aFloatGIdxIsRefusedWhenLoading() throws Exception {
        Path p = checkpoint(4, HostTensor.ofFloats(new float[32], 32));
        CorruptInputException e = assertThrows(CorruptInputException.class, () -> new PackedInferenceBackend().load(p).close());
        assertTrue(e.getMessage().contains(Q + ".g_idx is F32"), e.getMessage());
    }
}
