package dev.jround.it.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.it.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10 part 7, the flag audit: every accepted {@code quantize} flag is honoured, refused, or (compatibility flags
 * that cannot change anything in jround) announced with one notice line — never silently dropped.
 */
class FlagAuditTest {

    @TempDir
    Path out;

    private List<String> base(String dir) {
        return new ArrayList<>(List.of("quantize", "--model", Shared.aidreams().toString(), "--iters", "0", "--disable_opt_rtn",
                "--group_size", "32", "--format", "auto_round", "--output_dir", out.resolve(dir).toString()));
    }

    private static BlockSelectionTest.Run run(List<String> args) {
        return BlockSelectionTest.run(args.toArray(new String[0]));
    }

    private static JsonNode quantizationConfig(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            Path cfg = s.filter(p -> p.getFileName().toString().equals("config.json")).findFirst().orElseThrow();
            return new ObjectMapper().readTree(cfg.toFile()).get("quantization_config");
        }
    }

    @Test
    void compatibilityFlagsPrintANoticeAndLowGpuMemUsageIsRecorded() throws Exception {
        List<String> args = base("flags");
        args.addAll(List.of("--enable_torch_compile", "--disable_trust_remote_code", "--low_cpu_mem_usage",
                "--disable_low_cpu_mem_usage", "--low_gpu_mem_usage", "--device_map", "0", "--act_bits", "16",
                "--scale_dtype", "bf16"));
        BlockSelectionTest.Run r = run(args);
        assertEquals(0, r.code(), r.err());
        for (String flag : new String[]{"--enable_torch_compile", "--disable_trust_remote_code", "--low_cpu_mem_usage",
                "--disable_low_cpu_mem_usage"}) {
            assertTrue(r.err().contains(flag + " has no effect: "), flag + " notice in:\n" + r.err());
        }
        assertTrue(r.err().contains("--low_gpu_mem_usage: on the cpu device"), r.err());
        JsonNode qc = quantizationConfig(out.resolve("flags"));
        assertTrue(qc.get("low_gpu_mem_usage").asBoolean(), qc.toString());
        assertEquals("torch.bfloat16", qc.get("scale_dtype").asText(), qc.toString());

        BlockSelectionTest.Run plain = run(base("plain"));
        assertEquals(0, plain.code(), plain.err());
        assertFalse(plain.err().contains("has no effect"), plain.err());
        JsonNode pqc = quantizationConfig(out.resolve("plain"));
        assertFalse(pqc.has("low_gpu_mem_usage") || pqc.has("scale_dtype"), "defaults are not written: " + pqc);
    }

    @Test
    void valuesJroundCannotHonourAreRefused() {
        String[][] cases = {
                {"--act_bits 99", "--act_bits 99 is invalid"},
                {"--act_group_size -3", "--act_group_size -3 is invalid"},
                {"--max_shard_size 0", "--max_shard_size must be a positive number of bytes"},
                {"--max_shard_size -5", "--max_shard_size must be a positive number of bytes"},
                {"--device_map 0,1", "jround runs one job on one device"},
                {"--device_map tpu", "no available device backend named 'tpu'"},
                {"--enable_torch_compile --disable_torch_compile", "mutually exclusive"},
                {"--model_dtype fp16", "--model_dtype fp16 is not supported"},
                {"--scale_dtype fp8", "scale_dtype"},
        };
        for (String[] c : cases) {
            List<String> args = base("refused");
            args.addAll(List.of(c[0].split(" ")));
            BlockSelectionTest.Run r = run(args);
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().contains(c[1]), c[0] + ": " + r.err());
        }
        assertFalse(Files.exists(out.resolve("refused")) && out.resolve("refused").toFile().list().length > 0, "nothing written");
    }
}
