package dev.jround.it.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.plugin.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture plugins' real tensor declarations meet the GGUF mapping: a Mistral checkpoint goes to llama.cpp's
 * llama graph, with the GGUF names derived from the roles arch-llama declares (the GGUF plugin's own tests use
 * stand-in layouts, since a plugin's tests may not depend on another plugin).
 */
class GgufArchitecturesTest {

    @TempDir
    Path tmp;

    @Test
    void aMistralCheckpointGoesToTheLlamaGraphWithNamesFromTheDeclaredRoles() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("mistral"), 0f);
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(model.resolve("config.json").toFile());
        cfg.put("model_type", "mistral").putArray("architectures").add("MistralForCausalLM");
        json.writeValue(model.resolve("config.json").toFile(), cfg);
        // GGUF describes SentencePiece or BPE vocabularies only: the same words as a merge-less BPE model
        Path tj = model.resolve("tokenizer.json");
        Files.writeString(tj, Files.readString(tj).replace("\"type\": \"WordLevel\",", "\"type\": \"BPE\", \"merges\": [],"));

        var result = AutoRound.builder(model.toString()).iters(0).disableOptRtn(true).build()
                .quantizeAndSave(tmp.resolve("out"), "gguf:q8_0");
        try (Stream<Path> s = Files.walk(result.outputs().get(0));
             GgufFile g = GgufFile.open(s.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow())) {
            assertEquals("llama", g.getString("general.architecture", null));
            assertEquals(2, g.getLong("llama.block_count", -1));
            for (String name : new String[]{"token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight",
                    "blk.0.attn_k.weight", "blk.1.ffn_gate.weight", "blk.1.ffn_down.weight", "blk.1.ffn_norm.weight"}) {
                assertTrue(g.hasTensor(name), name + " in " + g.tensors());
            }
        }
    }
}
