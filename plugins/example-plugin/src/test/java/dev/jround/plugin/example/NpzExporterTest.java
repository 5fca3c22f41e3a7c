package dev.jround.plugin.example;

import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpzExporterTest {

    static final LayerSpec LAYER = new LayerSpec("model.layers.0.mlp.up_proj", 4, 2,
            QuantScheme.intWeightOnly(4, 2, false), 0, false, "default");

    @Test
    void serviceLoaderFindsTheExporter() {
        Exporter found = ServiceLoader.load(Exporter.class).stream().map(ServiceLoader.Provider::get)
                .filter(e -> e.formats().contains("example_npz")).findFirst().orElseThrow();
        assertEquals("example_npz", found.descriptor().id());
        assertEquals(List.of("example_npz"), found.descriptor().supports().get("formats"));
    }

    @Test
    void refusesNonIntegerAndWideSchemes() {
        NpzExporter exporter = new NpzExporter();
        assertTrue(exporter.refusal("example_npz", LAYER).isEmpty());
        LayerSpec fp8 = new LayerSpec("a", 4, 2, QuantScheme.intWeightOnly(8, 2, true).withDataType("fp"), 0, false, "");
        assertTrue(exporter.refusal("example_npz", fp8).orElseThrow().contains("data type fp"));
        LayerSpec tooWide = new LayerSpec("b", 4, 2, QuantScheme.intWeightOnly(12, 2, true), 0, false, "");
        assertTrue(exporter.refusal("example_npz", tooWide).orElseThrow().contains("12 bits"));
        LayerSpec kept = new LayerSpec("c", 4, 2, QuantScheme.FULL_PRECISION, 0, false, "");
        assertTrue(exporter.refusal("example_npz", kept).isEmpty());
    }

    @Test
    void writesNpyArraysNumpyCanRead(@TempDir Path out) throws IOException {
        ExportContext ctx = ExportContext.builder().format("example_npz").outputDir(out).layers(List.of(LAYER))
                .blockPrefixes(List.of("model.layers")).build();
        int[] codes = {0, 1, 15, 7, 3, 4, 5, 6};
        float[] scales = {0.5f, 0.25f, 1f, 2f};
        int[] zeros = {8, 8, 7, 9};
        try (ExportSession session = new NpzExporter().open(ctx)) {
            session.addQuantized(QuantizedLayer.ofGrid(LAYER, 2, codes, scales, zeros, new float[8], null));
            session.addTensor("model.norm.weight", HostTensor.ofFloats(new float[]{1f, -2f, 3f}, 3));
            session.finish();
        }
        Map<String, byte[]> entries = unzip(out.resolve("model.npz"));
        assertEquals(List.of("model.layers.0.mlp.up_proj.codes.npy", "model.layers.0.mlp.up_proj.scales.npy",
                "model.layers.0.mlp.up_proj.zeros.npy", "model.norm.weight.npy"), entries.keySet().stream().sorted().toList());

        byte[] codesNpy = entries.get("model.layers.0.mlp.up_proj.codes.npy");
        assertEquals("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4), }", header(codesNpy).trim());
        assertArrayEquals(new byte[]{0, 1, 15, 7, 3, 4, 5, 6}, payload(codesNpy));

        byte[] scalesNpy = entries.get("model.layers.0.mlp.up_proj.scales.npy");
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", header(scalesNpy).trim());
        float[] back = new float[4];
        ByteBuffer.wrap(payload(scalesNpy)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(back);
        assertArrayEquals(scales, back);

        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                header(entries.get("model.norm.weight.npy")).trim());

        String index = Files.readString(out.resolve("example_npz.json"));
        assertTrue(index.contains("\"writer\": \"jround example plugin " + NpzExporter.version() + "\""), index);
        assertTrue(index.contains("\"model.layers.0.mlp.up_proj\": {\"bits\": 4, \"group_size\": 2, \"sym\": false}"), index);
    }

    @Test
    void abortLeavesNoArchive(@TempDir Path out) {
        ExportContext ctx = ExportContext.builder().format("example_npz").outputDir(out).maxShardBytes(0).build();
        ExportSession session = new NpzExporter().open(ctx);
        session.addTensor("x", HostTensor.ofFloats(new float[]{1f}, 1));
        session.abort();
        assertFalse(Files.exists(out.resolve("model.npz")));
    }

    /** The header dict; the whole preamble must be 64-byte aligned as the .npy spec demands. */
    static String header(byte[] npy) {
        assertEquals((byte) 0x93, npy[0]);
        assertEquals("NUMPY", new String(npy, 1, 5, StandardCharsets.US_ASCII));
        int len = (npy[8] & 0xFF) | (npy[9] & 0xFF) << 8;
        assertEquals(0, (10 + len) % 64);
        return new String(npy, 10, len, StandardCharsets.US_ASCII);
    }

    static byte[] payload(byte[] npy) {
        int len = (npy[8] & 0xFF) | (npy[9] & 0xFF) << 8;
        return Arrays.copyOfRange(npy, 10 + len, npy.length);
    }

    static Map<String, byte[]> unzip(Path file) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }
}
