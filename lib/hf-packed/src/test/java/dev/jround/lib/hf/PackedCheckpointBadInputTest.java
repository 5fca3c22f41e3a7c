package dev.jround.lib.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad quantization_configs and packed tensors are refused by {@link PackedCheckpoint#open} (from config.json and
 * the safetensors headers alone) with the documented exception type and a message naming the key or tensor.
 */
class PackedCheckpointBadInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    Path dir;

    /** One 32x32 4-bit group-32 layer in the auto_round (GPTQ v2) layout, plus an embedding. */
    private Map<String, HostTensor> tensors() {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", HostTensor.ofFloats(new float[32 * 32], DType.F16, 32, 32));
        t.put(Q + ".qweight", HostTensor.ofInts(new int[4 * 32], 4, 32));
        t.put(Q + ".qzeros", HostTensor.ofInts(new int[4], 1, 4));
        t.put(Q + ".scales", HostTensor.ofFloats(new float[32], DType.F16, 1, 32));
        t.put(Q + ".g_idx", HostTensor.ofInts(new int[32], 32));
        return t;
    }

    private ObjectNode config(String layout) {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "llama");
        ObjectNode q = c.putObject("quantization_config");
        switch (layout) {
            case "awq" -> q.put("quant_method", "awq").put("version", "gemm").put("w_bit", 4).put("q_group_size", 32)
                    .put("zero_point", true);
            case "gptq" -> q.put("quant_method", "gptq").put("bits", 4).put("group_size", 32).put("sym", true);
            default -> q.put("quant_method", "auto-round").put("packing_format", "auto_round").put("bits", 4)
                    .put("group_size", 32).put("sym", true).put("data_type", "int");
        }
        return c;
    }

    private Path write(ObjectNode config, Map<String, HostTensor> tensors) throws Exception {
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config));
        SafetensorsWriter.writeAll(dir, tensors, Map.of());
        return dir;
    }

    private Path writeQc(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode c = config("auto_round");
        edit.accept((ObjectNode) c.get("quantization_config"));
        return write(c, tensors());
    }

    private Path writeTensor(String name, HostTensor t) throws Exception {
        Map<String, HostTensor> ts = tensors();
        if (t == null) {
            ts.remove(name);
        } else {
            ts.put(name, t);
        }
        return write(config("auto_round"), ts);
    }

    private static <T extends JroundException> T refused(Class<T> type, Path ckpt, String... named) {
        T e = assertThrows(type, () -> PackedCheckpoint.open(ckpt).close());
        for (String n : named) {
            assertTrue(e.getMessage().contains(n), "message should name '" + n + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void theBaseCheckpointOpens() throws Exception {
        try (PackedCheckpoint c = PackedCheckpoint.open(write(config("auto_round"), tensors()))) {
            assertEquals(1, c.packedModules().size());
            assertEquals(32, c.unpack(Q).in());
        }
    }

    @Test
    void bitWidthsOutsideWhatTheLayoutStoresAreInvalid() throws Exception {
        InvalidInputException e = refused(InvalidInputException.class, writeQc(q -> q.put("bits", 99)),
                "config.json", "quantization_config.bits is 99", "1..8");
        assertEquals(2, e.exitCode());
        refused(InvalidInputException.class, writeQc(q -> q.put("bits", 0)), "quantization_config.bits is 0");
        refused(InvalidInputException.class, writeQc(q -> q.put("bits", "four")), "quantization_config.bits", "expected an integer");
        refused(InvalidInputException.class, writeQc(q -> q.put("bits", 4.5)), "quantization_config.bits");
        ObjectNode awq = config("awq");
        ((ObjectNode) awq.get("quantization_config")).put("w_bit", 3);
        refused(InvalidInputException.class, write(awq, tensors()), "quantization_config.w_bit is 3", "4-bit");
    }

    @Test
    void groupSizeAndSymMustBeWellTyped() throws Exception {
        refused(InvalidInputException.class, writeQc(q -> q.put("group_size", -5)), "quantization_config.group_size is -5");
        refused(InvalidInputException.class, writeQc(q -> q.put("sym", "maybe")), "quantization_config.sym", "true or false");
        refused(InvalidInputException.class, write(config("auto_round").put("quantization_config", "gptq"), tensors()),
                "quantization_config is string");
    }

    @Test
    void aGroupSizeTheScalesDoNotHaveIsCorrupt() throws Exception {
        CorruptInputException e = refused(CorruptInputException.class, writeQc(q -> q.put("group_size", 7)),
                Q + ".scales", "group_size 7");
        assertEquals(1, e.exitCode());
    }

    @Test
    void overridesAreCheckedLikeTheDefaults() throws Exception {
        refused(InvalidInputException.class, writeQc(q -> q.putObject("extra_config").putObject(Q).put("bits", 99)),
                "extra_config[\"" + Q + "\"].bits is 99");
        refused(InvalidInputException.class, writeQc(q -> q.putObject("extra_config").put(Q, 8)), "extra_config[\"" + Q + "\"]");
        // a packed layer the config says is float would be dropped by a conversion
        refused(CorruptInputException.class, writeQc(q -> q.putObject("extra_config").putObject(Q).put("bits", 16)),
                Q + ".qweight", "extra_config");
        refused(CorruptInputException.class, writeQc(q -> q.putObject("extra_config").putObject("model.layers.7.mlp.up_proj")
                .put("bits", 8)), "model.layers.7.mlp.up_proj");
        // regular expressions and lm_head (tied to the embedding) need not name a stored module
        try (PackedCheckpoint c = PackedCheckpoint.open(writeQc(q -> {
            ObjectNode x = q.putObject("extra_config");
            x.putObject(".*mlp.*").put("bits", 8);
            x.putObject("lm_head").put("bits", 16);
        }))) {
            assertEquals(4, c.schemeOf(Q).bits());
        }
    }

    @Test
    void packedTensorsWithTheWrongDtypeOrShapeAreCorrupt() throws Exception {
        refused(CorruptInputException.class, writeTensor(Q + ".qweight", HostTensor.ofFloats(new float[128], DType.F16, 4, 32)),
                Q + ".qweight is F16");
        refused(CorruptInputException.class, writeTensor(Q + ".qweight", HostTensor.ofInts(new int[128], 128)), Q + ".qweight", "2-D");
        ByteBuffer big = ByteBuffer.allocate(128 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 128; i++) {
            big.putLong(1L << 40);
        }
        refused(CorruptInputException.class, writeTensor(Q + ".qweight", new HostTensor(DType.I64, new long[]{4, 32}, big.flip())),
                Q + ".qweight is I64");
        refused(CorruptInputException.class, writeTensor(Q + ".qweight", HostTensor.ofInts(new int[96], 3, 32)),
                Q + ".g_idx has 32 entries", Q + ".qweight [3, 32]");
        refused(CorruptInputException.class, writeTensor(Q + ".qzeros", HostTensor.ofFloats(new float[4], 1, 4)), Q + ".qzeros is F32");
        refused(CorruptInputException.class, writeTensor(Q + ".qzeros", HostTensor.ofInts(new int[3], 1, 3)), Q + ".qzeros [1, 3]");
        refused(CorruptInputException.class, writeTensor(Q + ".scales", HostTensor.ofInts(new int[32], 1, 32)), Q + ".scales is I32");
        refused(CorruptInputException.class, writeTensor(Q + ".scales", HostTensor.ofFloats(new float[31], DType.F16, 1, 31)),
                Q + ".scales [1, 31]");
        refused(CorruptInputException.class, writeTensor(Q + ".g_idx", HostTensor.ofFloats(new float[32], 32)), Q + ".g_idx is F32");
        refused(CorruptInputException.class, writeTensor(Q + ".g_idx", HostTensor.ofInts(new int[31], 31)), Q + ".g_idx has 31 entries");
        refused(CorruptInputException.class, writeTensor(Q + ".scales", null), Q, "no scales");
    }

    @Test
    void gIdxValuesOutOfRangeAreRefusedWhenTheLayerIsRead() throws Exception {
        int[] g = new int[32];
        g[3] = 5;
        try (PackedCheckpoint c = PackedCheckpoint.open(writeTensor(Q + ".g_idx", HostTensor.ofInts(g, 32)))) {
            CorruptInputException e = assertThrows(CorruptInputException.class, () -> c.layer(Q));
            assertTrue(e.getMessage().contains(Q + ".g_idx[3] = 5") && e.getMessage().contains(dir.toString()), e.getMessage());
        }
    }
}
