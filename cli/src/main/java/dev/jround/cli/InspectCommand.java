package dev.jround.cli;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.lib.safetensors.SafetensorsFile;
import dev.jround.spi.tensor.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code jround inspect FILE}: the structure of a checkpoint file. GGUF files (and any other kind an installed
 * inference backend describes) print their header, metadata and tensor table; a {@code .safetensors} file prints
 * its metadata and tensor table.
 */
@Command(name = "inspect", description = "Print the header, metadata and tensor table of a .gguf or .safetensors file.")
public final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "a .gguf file (or a directory holding one), or a .safetensors file")
    Path file;

    @Option(names = "--max-array", paramLabel = "N", defaultValue = "8",
            description = "array items shown per metadata key (default: ${DEFAULT-VALUE})")
    int maxArray;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.exists(file)) {
            throw new InvalidInputException("no such file: " + file, "give the path of a .gguf or .safetensors file");
        }
        for (InferenceBackend b : JroundCli.registry().all(InferenceBackend.class)) {
            if (b.canLoad(file) && b.inspect(file, out, maxArray)) {
                out.flush();
                return 0;
            }
        }
        if (Files.isRegularFile(file) && file.getFileName().toString().endsWith(".safetensors")) {
            printSafetensors(out);
            return 0;
        }
        throw new InvalidInputException("no installed plugin can inspect " + file,
                "jround inspect reads .gguf files (plugin export-gguf) and .safetensors files");
    }

    private void printSafetensors(PrintWriter out) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            out.printf("file: %s%n", file);
            out.printf("safetensors, %d tensors%n%n", f.names().size());
            out.println("metadata:");
            f.metadata().forEach((k, v) -> out.printf("  %s = %s%n", k, v));
            out.println();
            out.println("tensors:");
            int width = f.names().stream().mapToInt(String::length).max().orElse(10);
            long total = 0;
            for (String n : f.names()) {
                TensorInfo t = f.info(n).orElseThrow();
                out.printf("  %-" + width + "s  %-7s %-20s %12d%n", n, t.dtype(), Arrays.toString(t.shape()), t.byteSize());
                total += t.byteSize();
            }
            out.printf("%d tensors, %d bytes of tensor data%n", f.names().size(), total);
        }
        out.flush();
    }
}
