package dev.jround.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.calib.CalibrationContext;
import dev.jround.kernel.calib.CalibrationPipeline;
import dev.jround.kernel.calib.CalibrationSet;
import dev.jround.kernel.calib.CodeModels;
import dev.jround.kernel.calib.Concatenation;
import dev.jround.kernel.calib.ModelSampler;
import dev.jround.kernel.hub.ModelSource;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code jround dataset --dataset SPEC --model M}: prepares the calibration set exactly as quantization
 * would and prints what it resolved to — sources, sample counts, token statistics — without quantizing.
 */
@Command(name = "dataset", description = "Show what a --dataset spec resolves to (sources, sample counts, token statistics) without quantizing.")
public final class DatasetCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dataset", paramLabel = "SPEC",
            description = "calibration spec, e.g. ./my.jsonl,NeelNanda/pile-10k:num=256,mbpp:num=128 (default: pile-10k if cached, else self:num=NSAMPLES)")
    String dataset;

    @Option(names = {"--model", "--model_name", "--model_name_or_path"}, required = true, paramLabel = "M",
            description = "model directory or Hugging Face repo id (for its tokenizer, chat template and self-generation)")
    String model;

    @Option(names = {"--nsamples", "--nsample"}, defaultValue = "128", description = "number of samples (default: ${DEFAULT-VALUE})")
    int nsamples;

    @Option(names = {"--seqlen", "--seq_len"}, defaultValue = "2048", description = "tokens per sample (default: ${DEFAULT-VALUE}; clamped to the model context)")
    int seqlen;

    @Option(names = "--seed", defaultValue = "42", description = "seed of every shuffle and of self-generation (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--show", defaultValue = "0", paramLabel = "N", description = "also print the first N samples (ids and decoded text)")
    int show;

    @Option(names = "--reference-concat", description = "chunk concat=True data exactly as the reference does (drifting lengths), for parity checks")
    boolean referenceConcat;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (nsamples <= 0 || seqlen <= 0) {
            throw new InvalidInputException("--nsamples and --seqlen must be positive", "e.g. --nsamples 128 --seqlen 2048");
        }
        ModelLoader loader = new ModelLoader(JroundCli.registry(), ModelSource.fromEnvironment()::resolve);
        try (LoadedModel m = loader.load(model, DataType.FLOAT32);
             NDManager manager = m.device().newManager()) {
            Tokenizer tok = m.tokenizer();
            int len = seqlen;
            int context = m.lm().maxPositions();
            if (context > 0 && len > context) {
                out.printf("seqlen %d exceeds the model context %d; using %d%n", len, context, len = context);
            }
            out.printf("model: %s (%s)%n", m.source(), m.description());
            CalibrationContext ctx = CalibrationContext.builder(tok).nsamples(nsamples).seqlen(len).seed(seed)
                    .sampler(new ModelSampler(m.lm(), manager, tok == null ? 1 : Math.max(0, tok.bosTokenId()), out::println))
                    .codeModel(CodeModels.isCodeModel(model, m.config()))
                    .log(out::println).build();
            CalibrationPipeline pipeline = new CalibrationPipeline(JroundCli.registry())
                    .concatMode(referenceConcat ? Concatenation.Mode.REFERENCE : Concatenation.Mode.INTENDED);
            CalibrationSet set = pipeline.prepare(dataset, ctx);
            set.summary().lines().forEach(out::println);
            for (int i = 0; i < Math.min(show, set.size()); i++) {
                long[] ids = set.inputIds().get(i);
                String head = Arrays.stream(Arrays.copyOf(ids, Math.min(16, ids.length)))
                        .mapToObj(Long::toString).collect(Collectors.joining(" "));
                String text = tok == null ? "" : tok.decode(ids, false).replace("\n", "\\n");
                out.printf("  [%d] %d tokens: %s%s%n      %s%n", i, ids.length, head, ids.length > 16 ? " ..." : "",
                        text.length() > 160 ? text.substring(0, 160) + "..." : text);
            }
            out.flush();
            return set.size() == 0 ? 1 : 0;
        }
    }
}
