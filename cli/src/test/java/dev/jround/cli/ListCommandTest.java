package dev.jround.cli;

import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ListCommandTest {

    /** An exporter with two formats, as an exporter plugin on the class path would be. */
    public static final class TwoFormatExporter implements Exporter {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.EXPORTER, "test_gptq", "2.1.0", "test exporter");
        }

        @Override
        public List<String> formats() {
            return List.of("test_gptq", "test_round:test_gptq");
        }

        @Override
        public String supportedSchemes(String format) {
            return format.startsWith("test_round") ? "W2-W8 int, group 32/64/128" : "W4A16, W8A16";
        }

        @Override
        public Optional<String> refusal(String format, LayerSpec layer) {
            return Optional.empty();
        }

        @Override
        public ExportSession open(ExportContext context) {
            throw new UnsupportedOperationException("listing only");
        }
    }

    public static final class IntPresets implements SchemePreset {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.SCHEME, "test_int", "1.3.0", "test presets");
        }

        @Override
        public Map<String, QuantScheme> presets() {
            Map<String, QuantScheme> m = new LinkedHashMap<>();
            m.put("W8A16", QuantScheme.intWeightOnly(8, -1, true));
            m.put("W2A16G32", QuantScheme.intWeightOnly(2, 32, false));
            return m;
        }
    }

    static ServiceLoaderRegistry registryWith(Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(Exporter.class.getName()), TwoFormatExporter.class.getName() + "\n");
        Files.writeString(services.resolve(SchemePreset.class.getName()), IntPresets.class.getName() + "\n");
        return new ServiceLoaderRegistry(new URLClassLoader(new URL[]{dir.toUri().toURL()},
                ListCommandTest.class.getClassLoader()));
    }

    @Test
    void formatTableShowsEachFormatWithItsSchemesAndPlugin(@TempDir Path dir) throws IOException {
        StringWriter text = new StringWriter();
        ListCommand.printFormats(registryWith(dir), new PrintWriter(text, true));
        List<String> lines = text.toString().lines().toList();
        assertEquals(3, lines.size(), text.toString());
        assertTrue(lines.get(0).startsWith("FORMAT") && lines.get(0).contains("SUPPORTED SCHEMES"));
        assertTrue(lines.get(1).matches("test_gptq\\s+W4A16, W8A16\\s+\\[test_gptq 2\\.1\\.0]"), lines.get(1));
        assertTrue(lines.get(2).matches("test_round:test_gptq\\s+W2-W8 int, group 32/64/128\\s+\\[test_gptq 2\\.1\\.0]"), lines.get(2));
    }

    @Test
    void schemeTableShowsEveryPresetSortedByName(@TempDir Path dir) throws IOException {
        StringWriter text = new StringWriter();
        ListCommand.printSchemes(registryWith(dir), new PrintWriter(text, true));
        List<String> lines = text.toString().lines().toList();
        assertEquals(3, lines.size(), text.toString());
        assertTrue(lines.get(1).matches("W2A16G32\\s+2\\s+32\\s+asym\\s+int\\s+16\\s+-\\s+\\[test_int 1\\.3\\.0]"), lines.get(1));
        assertTrue(lines.get(2).matches("W8A16\\s+8\\s+channel\\s+sym\\s+int\\s+16\\s+-\\s+\\[test_int 1\\.3\\.0]"), lines.get(2));
    }

    @Test
    void listRunsThroughTheCommandLine() {
        Run run = Run.of("list", "format");
        assertEquals(0, run.code, run.err);
        assertTrue(run.out.startsWith("FORMAT") || run.out.startsWith("no export formats installed"), run.out);
        assertEquals(0, Run.of("list", "scheme").code);
    }

    @Test
    void unknownTopicIsAUsageErrorOnOneLine() {
        Run run = Run.of("list", "formats");
        assertEquals(2, run.code);
        List<String> errors = run.err.lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errors.size(), run.err);
        assertTrue(errors.get(0).contains("formats") && errors.get(0).contains("format, scheme"), errors.get(0));
        assertEquals("", run.out);
    }

    /** One CLI invocation with captured streams. */
    record Run(int code, String out, String err) {
        static Run of(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Run(code, out.toString(), err.toString());
        }
    }
}
