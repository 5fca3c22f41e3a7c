package dev.jround.cli;

import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.lib.hf.GptqPacking;
import dev.jround.lib.hf.PackedLayout;
import dev.jround.lib.hf.ZeroPointConvention;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertCommandTest {

    /** Records what the converter streams into it and writes a marker file on finish. */
    public static final class RecordingExporter implements Exporter {
        static final List<QuantizedLayer> LAYERS = new ArrayList<>();
        static final List<String> TENSORS = new ArrayList<>();

        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of(PluginKind.EXPORTER, "recording", "1.0.0", "test exporter");
        }

        @Override
        public List<String> formats() {
            return List.of("recorded", "refusing");
        }

        @Override
        public String supportedSchemes(String format) {
            return "any";
        }

        @Override
        public Optional<String> refusal(String format, LayerSpec layer) {
            return format.equals("refusing") && layer.quantized() ? Optional.of("refusing format takes no " + layer.scheme()) : Optional.empty();
        }

        @Override
        public ExportSession open(ExportContext context) {
            return new ExportSession() {
                @Override
                public void addQuantized(QuantizedLayer layer) {
                    LAYERS.add(layer);
                }

                @Override
                public void addTensor(String name, HostTensor tensor) {
                    TENSORS.add(name);
                }

                @Override
                public void finish() {
                    try {
                        Files.writeString(context.outputDir().resolve("done.txt"), context.format());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
        }
    }

    static ServiceLoaderRegistry registry(Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(Exporter.class.getName()), RecordingExporter.class.getName() + "\n");
        return new ServiceLoaderRegistry(new URLClassLoader(new URL[]{dir.toUri().toURL()}, ConvertCommandTest.class.getClassLoader()));
    }

    /** A one-layer GPTQ (v1, 4-bit, group 32) checkpoint with known codes. */
    static int[] writeGptq(Path dir, int[] zerosOut) throws IOException {
        Files.createDirectories(dir);
        int out = 32;
        int in = 64;
        Random r = new Random(2);
        int[] codes = new int[out * in];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = r.nextInt(16);
        }
        int[] zeros = new int[out * 2];
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = 1 + r.nextInt(15);
        }
        System.arraycopy(zeros, 0, zerosOut, 0, zeros.length);
        float[] scales = new float[out * 2];
        java.util.Arrays.fill(scales, 0.25f);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        String m = "model.layers.0.self_attn.q_proj";
        t.put(m + ".qweight", HostTensor.ofInts(GptqPacking.packQweight(codes, out, in, 4), 8, out));
        t.put(m + ".qzeros", HostTensor.ofInts(GptqPacking.packQzeros(zeros, out, 2, 4, ZeroPointConvention.V1), 2, 4));
        t.put(m + ".scales", PackedLayout.scalesToF16(scales, out, 2));
        t.put(m + ".g_idx", HostTensor.ofInts(GptqPacking.trivialGIdx(in, 32), in));
        t.put("model.norm.weight", HostTensor.ofFloats(new float[64], 64));
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"quantization_config\":{\"quant_method\":\"gptq\","
                + "\"bits\":4,\"group_size\":32,\"sym\":false,\"desc_act\":false,\"iters\":50}}");
        return codes;
    }

    @Test
    void streamsTheUnpackedCodesIntoTheExporterAndRenamesTheOutput(@TempDir Path tmp) throws IOException {
        int[] zeros = new int[64];
        int[] codes = writeGptq(tmp.resolve("in"), zeros);
        RecordingExporter.LAYERS.clear();
        RecordingExporter.TENSORS.clear();
        StringWriter log = new StringWriter();
        Path out = tmp.resolve("out");
        ConvertCommand.convert(registry(tmp.resolve("plugins")), tmp.resolve("in"), "recorded", out, 1000, false, new PrintWriter(log, true));
        assertEquals(1, RecordingExporter.LAYERS.size());
        QuantizedLayer l = RecordingExporter.LAYERS.get(0);
        assertArrayEquals(codes, l.grid().codes());
        assertArrayEquals(zeros, l.grid().zeros());
        assertEquals(0.25f, l.grid().scales()[0]);
        assertEquals(List.of("model.norm.weight"), RecordingExporter.TENSORS);
        assertEquals("recorded", Files.readString(out.resolve("done.txt")));
        assertFalse(Files.exists(tmp.resolve("out.partial")));
        assertTrue(log.toString().contains("1 packed layers"), log.toString());
        InvalidInputException exists = assertThrows(InvalidInputException.class, () -> ConvertCommand.convert(registry(tmp.resolve("plugins")),
                tmp.resolve("in"), "recorded", out, 1000, false, new PrintWriter(new StringWriter())));
        assertTrue(exists.hint().contains("--overwrite"));
        ConvertCommand.convert(registry(tmp.resolve("plugins")), tmp.resolve("in"), "recorded", out, 1000, true, new PrintWriter(new StringWriter()));
    }

    @Test
    void aRefusalLeavesNothingBehind(@TempDir Path tmp) throws IOException {
        writeGptq(tmp.resolve("in"), new int[64]);
        Path out = tmp.resolve("out");
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> ConvertCommand.convert(
                registry(tmp.resolve("plugins")), tmp.resolve("in"), "refusing", out, 1000, false, new PrintWriter(new StringWriter())));
        assertTrue(e.getMessage().contains("refusing format takes no"), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(tmp.resolve("out.partial")));
    }

    @Test
    void unknownFormatOrMissingModelAreUsageErrors(@TempDir Path tmp) throws IOException {
        writeGptq(tmp.resolve("in"), new int[64]);
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "convert", "--model", tmp.resolve("in").toString(), "--format", "no_such_format", "--output_dir", tmp.resolve("o").toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("no_such_format"), err.toString());
        err = new StringWriter();
        code = JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "convert", "--model", tmp.resolve("missing").toString(), "--output_dir", tmp.resolve("o").toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().startsWith("error: --model"), err.toString());
    }

    /** Every file under {@code dir} with its SHA-256, to show a refused run touched nothing. */
    static Map<String, String> tree(Path dir) throws IOException {
        Map<String, String> m = new java.util.TreeMap<>();
        try (var s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String hash = "dir";
                if (Files.isRegularFile(p)) {
                    try {
                        hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
                    } catch (java.security.NoSuchAlgorithmException e) {
                        throw new IllegalStateException(e);
                    }
                }
                m.put(dir.relativize(p).toString(), hash);
            }
        }
        return m;
    }

    private static int cli(StringWriter err, String... args) {
        return JroundCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), args);
    }

    /** Issue 10: --output_dir equal to, a parent of, or inside the input is refused before any work. */
    @Test
    void anOutputOverlappingTheInputIsRefusedAndNothingIsTouched(@TempDir Path tmp) throws IOException {
        Path parent = tmp.resolve("P");
        Path in = parent.resolve("gptq");
        writeGptq(in, new int[64]);
        writeGptq(parent.resolve("sibling"), new int[64]);
        Map<String, String> before = tree(tmp);
        for (Path out : List.of(in, parent, in.resolve("converted"))) {
            StringWriter err = new StringWriter();
            int code = cli(err, "convert", "--model", in.toString(), "--format", "auto_round", "--output_dir", out.toString(), "--overwrite");
            assertEquals(2, code, out + ": " + err);
            assertTrue(err.toString().startsWith("error: output directory " + out), err.toString());
            assertTrue(err.toString().contains(in.toString()), err.toString());
            assertEquals(before, tree(tmp), "a refused convert changed files (output " + out + ")");
        }
    }

    @Test
    void overwriteReplacesOnlyAPreviousJroundOutput(@TempDir Path tmp) throws IOException {
        writeGptq(tmp.resolve("in"), new int[64]);
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("thesis.tex"), "years of work");
        Map<String, String> before = tree(tmp);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ConvertCommand.convert(registry(tmp.resolve("plugins")),
                tmp.resolve("in"), "recorded", mine, 1000, true, new PrintWriter(new StringWriter())));
        assertTrue(e.getMessage().contains("not written by jround"), e.getMessage());
        before.keySet().removeIf(k -> k.startsWith("plugins"));
        Map<String, String> after = tree(tmp);
        after.keySet().removeIf(k -> k.startsWith("plugins"));
        assertEquals(before, after);

        Path out = tmp.resolve("out");
        ConvertCommand.convert(registry(tmp.resolve("plugins")), tmp.resolve("in"), "recorded", out, 1000, false, new PrintWriter(new StringWriter()));
        assertTrue(Files.isRegularFile(out.resolve(".jround-output.json")), "jround marks its output");
        Files.writeString(out.resolve("done.txt"), "stale");
        ConvertCommand.convert(registry(tmp.resolve("plugins")), tmp.resolve("in"), "recorded", out, 1000, true, new PrintWriter(new StringWriter()));
        assertEquals("recorded", Files.readString(out.resolve("done.txt")));
        assertFalse(Files.exists(tmp.resolve("out.old")));
    }

    @Test
    void shardSizesUseTransformersUnits() {
        assertEquals(5_000_000_000L, ConvertCommand.parseSize("5GB"));
        assertEquals(2L << 30, ConvertCommand.parseSize("2GiB"));
        assertEquals(500_000_000L, ConvertCommand.parseSize("500MB"));
        assertEquals(1234L, ConvertCommand.parseSize("1234"));
        assertThrows(InvalidInputException.class, () -> ConvertCommand.parseSize("lots"));
    }
}
