package dev.jround.kernel.calib;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodeModelsTest {

    private static ModelConfig config(String json) throws Exception {
        return ConfigJson.config(Path.of("."), (ObjectNode) new ObjectMapper().readTree(json));
    }

    @Test
    void namesMarkCodeModels() {
        assertTrue(CodeModels.nameSaysCode("Qwen/Qwen2.5-Coder-7B-Instruct"));
        assertTrue(CodeModels.nameSaysCode("bigcode/starcoder2-3b"));
        assertTrue(CodeModels.nameSaysCode("codellama/CodeLlama-7b-hf"), "camel case splits Code Llama");
        assertTrue(CodeModels.nameSaysCode("mistralai/Devstral-Small-2505"));
        assertTrue(CodeModels.nameSaysCode("/models/deepseekcoder33/"));
        assertFalse(CodeModels.nameSaysCode("meta-llama/Llama-3.1-8B"));
        assertFalse(CodeModels.nameSaysCode("Qwen/Qwen3-0.6B"));
        assertFalse(CodeModels.nameSaysCode("barcode-reader"), "only whole words count");
    }

    @Test
    void configFieldsAndTasksMarkCodeModels() throws Exception {
        assertTrue(CodeModels.isCodeModel("./local", config("{\"model_type\": \"llama\", \"_name_or_path\": \"x/StarCoder-1b\"}")));
        assertTrue(CodeModels.isCodeModel(null, config("{\"model_type\": \"llama\", \"pipeline_tag\": \"text_to_code\"}")));
        assertTrue(CodeModels.isCodeModel(null, config("{\"model_type\": \"gpt2\", \"task_specific_params\": {\"code-generation\": {}}}")));
        assertFalse(CodeModels.isCodeModel("./aidreams260K", config("{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"]}")));
        assertEquals("opencode-instruct:concat=true:num=128", CodeModels.defaultCodeSpec(128));
    }
}
