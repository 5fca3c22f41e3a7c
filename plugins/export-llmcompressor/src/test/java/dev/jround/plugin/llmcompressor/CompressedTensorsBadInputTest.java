package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.UnsupportedFeatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged compressed-tensors checkpoint gets one clear error naming what is wrong, before any weight is read. */
class CompressedTensorsBadInputTest {

    @TempDir
    Path tmp;

    private Path copyWith(Consumer<ObjectNode> edit) throws Exception {
        Path src = Path.of(getClass().getResource("/ctcheck/reference/config.json").toURI()).getParent();
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(src.resolve("config.json").toFile());
        edit.accept((ObjectNode) cfg.get("quantization_config"));
        Files.writeString(dir.resolve("config.json"), cfg.toPrettyString());
        return dir;
    }

    private void refused(Class<? extends JroundException> type, String fragment, Consumer<ObjectNode> edit) throws Exception {
        Path dir = copyWith(edit);
        JroundException e = assertThrows(type, () -> CompressedTensorsCheckpoint.open(dir).close());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertFalse(e.hint() == null || e.hint().isBlank());
    }

    @Test
    void wrongBitWidthIsCorruption() throws Exception {
        refused(CorruptInputException.class, "weight_packed", qc -> ((ObjectNode) qc.at("/config_groups/group_1/weights")).put("num_bits", 4));
    }

    @Test
    void untargetedCompressedLayer() throws Exception {
        refused(CorruptInputException.class, "no config group targets it", qc -> qc.withArray("ignore").add("model.layers.0.mlp.down_proj"));
    }

    @Test
    void unsupportedStatusAndFormat() throws Exception {
        refused(UnsupportedFeatureException.class, "quantization_status 'frozen'", qc -> qc.put("quantization_status", "frozen"));
        Files.walk(tmp).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        refused(UnsupportedFeatureException.class, "sparse-24", qc -> ((ObjectNode) qc.at("/config_groups/group_0")).put("format", "sparse-24"));
    }

    @Test
    void emptyGroupsAreInvalid() throws Exception {
        refused(InvalidInputException.class, "config_groups is empty", qc -> qc.putObject("config_groups"));
    }

    @Test
    void backendDoesNotClaimOtherCheckpoints() throws Exception {
        Path dir = copyWith(qc -> qc.put("quant_method", "gptq"));
        assertFalse(new CompressedTensorsBackend().canLoad(dir));
    }
}
