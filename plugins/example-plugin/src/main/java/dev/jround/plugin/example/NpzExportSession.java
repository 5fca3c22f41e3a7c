package dev.jround.plugin.example;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Streams layers into {@code model.npz} as they arrive; {@link #finish} adds {@code example_npz.json}. */
final class NpzExportSession implements ExportSession {

    static final String ARCHIVE = "model.npz";
    static final String INDEX = "example_npz.json";

    private final Path dir;
    private final String writerVersion;
    private final ZipOutputStream zip;
    private final Map<String, String> layerLines = new LinkedHashMap<>();
    private int plainTensors;
    private boolean closed;

    NpzExportSession(ExportContext context, String writerVersion) {
        this.dir = context.outputDir();
        this.writerVersion = writerVersion;
        try {
            Files.createDirectories(dir);
            zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(dir.resolve(ARCHIVE))));
        } catch (IOException e) {
            throw new InvalidInputException("cannot write " + dir.resolve(ARCHIVE) + ": " + e.getMessage(),
                    "the output directory must be writable", e);
        }
    }

    @Override
    public void addQuantized(QuantizedLayer layer) {
        long rows = layer.rows();
        long cols = layer.cols();
        long groups = layer.groupsPerRow();
        put(layer.name() + ".codes.npy", NpyArrays.uint8(layer.grid().codes(), rows, cols));
        put(layer.name() + ".scales.npy", NpyArrays.float32(layer.grid().scales(), rows, groups));
        put(layer.name() + ".zeros.npy", NpyArrays.uint8(layer.grid().zeros(), rows, groups));
        if (layer.bias() != null) {
            put(layer.name() + ".bias.npy", NpyArrays.float32(layer.bias(), rows));
        }
        layerLines.put(layer.name(), "{\"bits\": " + layer.bits() + ", \"group_size\": " + layer.grid().groupSize()
                + ", \"sym\": " + layer.spec().scheme().sym() + "}");
    }

    @Override
    public void addTensor(String name, HostTensor tensor) {
        put(name + ".npy", NpyArrays.of(tensor));
        plainTensors++;
    }

    @Override
    public void finish() {
        StringBuilder json = new StringBuilder();
        json.append("{\n  \"format\": \"").append(NpzExporter.FORMAT).append("\",\n");
        json.append("  \"writer\": \"jround example plugin ").append(writerVersion).append("\",\n");
        json.append("  \"plain_tensors\": ").append(plainTensors).append(",\n");
        json.append("  \"quantized_layers\": {");
        String sep = "\n";
        for (var e : layerLines.entrySet()) {
            json.append(sep).append("    \"").append(e.getKey()).append("\": ").append(e.getValue());
            sep = ",\n";
        }
        json.append(layerLines.isEmpty() ? "}\n}\n" : "\n  }\n}\n");
        closeArchive();
        try {
            Files.writeString(dir.resolve(INDEX), json, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void abort() {
        closeArchive();
        try {
            Files.deleteIfExists(dir.resolve(ARCHIVE));
            Files.deleteIfExists(dir.resolve(INDEX));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        closeArchive();
    }

    private void put(String entryName, byte[] npy) {
        try {
            zip.putNextEntry(new ZipEntry(entryName));
            zip.write(npy);
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot add " + entryName + " to " + dir.resolve(ARCHIVE), e);
        }
    }

    private void closeArchive() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            zip.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
