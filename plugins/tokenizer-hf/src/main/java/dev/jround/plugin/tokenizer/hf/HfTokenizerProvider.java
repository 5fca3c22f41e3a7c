package dev.jround.plugin.tokenizer.hf;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.data.TokenizerProvider;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Hugging Face fast tokenizers (tokenizer.json) through DJL's bindings, with tokenizer_config.json and chat templates. */
public final class HfTokenizerProvider implements TokenizerProvider {

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.TOKENIZER, "hf-tokenizers", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "Hugging Face tokenizer.json via DJL tokenizers; chat templates via Jinjava (offline)",
                Map.of("files", List.of("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")));
    }

    @Override
    public boolean canLoad(Path modelDir) {
        return modelDir != null && Files.isRegularFile(modelDir.resolve("tokenizer.json"));
    }

    @Override
    public Tokenizer load(Path modelDir) {
        return HfTokenizer.open(modelDir);
    }
}
