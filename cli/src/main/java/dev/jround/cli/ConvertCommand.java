package dev.jround.cli;

import dev.jround.kernel.output.OutputTarget;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.lib.hf.PackedConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code jround convert --model IN --format auto_round --output_dir OUT}: re-packs a GPTQ, AWQ or auto_round
 * checkpoint (or one an installed inference backend re-packs itself, see {@link InferenceBackend#repack}) into another packed format, reusing its integer codes, scales and zero points (no
 * re-quantization, so the dequantized weights are identical). The output appears only when complete.
 */
@Command(name = "convert", description = "Re-pack a GPTQ/AWQ/auto_round checkpoint into another format without re-quantizing.")
public final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "the packed checkpoint directory (config.json + *.safetensors)")
    Path model;

    @Option(names = "--format", defaultValue = "auto_round", paramLabel = "FORMAT",
            description = "target format (default: ${DEFAULT-VALUE}); e.g. auto_round, auto_round:auto_gptq, auto_round:auto_awq, auto_gptq, auto_awq")
    String format;

    @Option(names = {"--output_dir", "--output-dir"}, required = true, paramLabel = "DIR", description = "the converted checkpoint directory itself; it must not exist (or be a previous jround output, with --overwrite)")
    Path outputDir;

    @Option(names = {"--max_shard_size", "--max-shard-size"}, defaultValue = "5GB", paramLabel = "SIZE",
            description = "safetensors shard limit, e.g. 5GB (10^9 bytes) or 2GiB (default: ${DEFAULT-VALUE})")
    String maxShardSize;

    @Option(names = "--overwrite", description = "replace an existing output directory that jround wrote (one with .jround-output.json)")
    boolean overwrite;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        convert(JroundCli.registry(), model, format, outputDir, parseSize(maxShardSize), overwrite, out);
        out.flush();
        return 0;
    }

    /**
     * Finds the exporter of {@code format}, converts into {@code <out>.partial} and swaps it in as {@code out}
     * ({@link OutputTarget}: never over an input, and with {@code overwrite} only over a previous jround output).
     */
    static PackedConverter.Result convert(PluginRegistry registry, Path model, String format, Path out, long maxShard,
                                          boolean overwrite, PrintWriter log) {
        if (!Files.isDirectory(model)) {
            throw new InvalidInputException("--model " + model + " is not a directory",
                    "give a local checkpoint directory with config.json and *.safetensors");
        }
        // --output_dir is the checkpoint directory itself; it is claimed like every jround output.
        OutputTarget target = OutputTarget.claim(out, List.of(model), overwrite, "convert", line -> log.println(line));
        Exporter exporter = registry.all(Exporter.class).stream().filter(e -> e.formats().contains(format)).findFirst()
                .orElseThrow(() -> new UnsupportedFeatureException("no installed exporter writes --format " + format,
                        "run 'jround list format' for the formats installed"));
        PackedConverter.Result result = null;
        boolean ok = false;
        try {
            Path partial = target.prepare();
            // a plugin that reads a packing lib/hf-packed does not re-packs it itself; the rest go through PackedConverter
            for (InferenceBackend backend : registry.all(InferenceBackend.class)) {
                Optional<InferenceBackend.Repacked> r = backend.repack(model, exporter, format, partial, maxShard);
                if (r.isPresent()) {
                    result = new PackedConverter.Result(r.get().packedLayers(), r.get().floatTensors(), r.get().sourceDescription());
                    break;
                }
            }
            if (result == null) {
                try (PackedCheckpoint in = PackedCheckpoint.open(model)) {
                    result = PackedConverter.convert(in, exporter, format, partial, maxShard);
                }
            }
            target.commit();
            ok = true;
        } finally {
            if (!ok) {
                target.discard();
            }
        }
        log.printf("converted %s checkpoint %s -> %s (%s): %d packed layers re-packed, %d tensors copied%n",
                result.sourceDescription(), model, out, format, result.packedLayers(), result.floatTensors());
        return result;
    }

    /** {@code 5GB} = 5·10^9 bytes, {@code 2GiB} = 2·2^30 bytes (transformers' units); a bare number is bytes. */
    static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"KB", "1000"}, {"MB", "1000000"},
                {"GB", "1000000000"}, {"B", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                try {
                    return (long) (Double.parseDouble(t.substring(0, t.length() - u[0].length()).trim()) * Long.parseLong(u[1]));
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--max_shard_size '" + s + "' is not a size", "write e.g. 5GB, 500MB or 2GiB");
        }
    }
}
