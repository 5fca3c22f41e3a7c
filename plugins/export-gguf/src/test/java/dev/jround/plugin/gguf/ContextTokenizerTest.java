package dev.jround.plugin.gguf;

import dev.jround.lib.safetensors.ConfigJson;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.model.ModelConfig;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The chat template comes from the context's tokenizer; without one (or without a template) the file is unchanged. */
class ContextTokenizerTest {

    @TempDir
    Path tmp;

    /** A tokenizer that answers only chatTemplate(): GGUF must ask it for nothing else. */
    static Tokenizer withTemplate(String template) {
        return (Tokenizer) Proxy.newProxyInstance(Tokenizer.class.getClassLoader(), new Class<?>[]{Tokenizer.class},
                (p, m, a) -> switch (m.getName()) {
                    case "chatTemplate" -> Optional.ofNullable(template);
                    case "close" -> null;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    static Path model() {
        String s = System.getProperty("jround.shared");
        Path m = s == null ? null : Path.of(s, "models", "aidreams260K");
        assumeTrue(m != null && Files.isDirectory(m), "../shared/models/aidreams260K is not available");
        return m;
    }

    Path export(Path model, String name, Tokenizer tokenizer) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(model)) {
            ModelConfig cfg = ConfigJson.read(model);
            ExportContext ctx = ExportContext.builder().format("gguf:q8_0").outputDir(dir).config(cfg).sourceDir(model)
                    .source(src).blockPrefixes(List.of("model.layers")).layout(Layouts.of(cfg)).tokenizer(tokenizer)
                    .build();
            try (ExportSession session = new GgufExporter().open(ctx)) {
                for (String t : src.names()) {
                    session.addTensor(t, src.get(t));
                }
                session.finish();
            }
        }
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
        }
    }

    @Test
    void theTokenizersTemplateIsWrittenAndNoTemplateChangesNothing() throws Exception {
        Path model = model();
        byte[] plain = Files.readAllBytes(export(model, "plain", null));
        assertArrayEquals(plain, Files.readAllBytes(export(model, "none", withTemplate(null))));
        Path withT = export(model, "template", withTemplate("{{ messages }}"));
        try (GgufFile g = GgufFile.open(withT)) {
            assertEquals("{{ messages }}", g.getString("tokenizer.chat_template", null));
        }
    }
}
