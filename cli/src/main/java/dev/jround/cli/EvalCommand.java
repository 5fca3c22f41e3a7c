package dev.jround.cli;

import dev.jround.kernel.eval.EvalData;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.spi.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jround eval}: perplexity of a model on a text or token-id file and, with {@code --reference}, the KL
 * divergence, top-1 agreement and RMS probability change against a reference model on the same tokens.
 */
@Command(name = "eval", description = "Perplexity, and KL divergence / top-1 agreement against a reference model.")
public final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "Model to evaluate (wins over --model), as AutoRound's eval takes it.")
    String positionalModel;

    @Option(names = {"--model", "--model_name", "--model_name_or_path"},
            description = "Model to evaluate: directory, quantized checkpoint or .gguf file.")
    String model;

    @Option(names = "--reference", description = "Reference model (usually the full-precision original).")
    String reference;

    @Option(names = "--data", required = true,
            description = "Text file (.txt, .jsonl with \"text\") or token-id JSON file (a list of id lists).")
    Path data;

    @Option(names = "--seqlen", defaultValue = "512", description = "Tokens per window (default ${DEFAULT-VALUE}).")
    int seqlen;

    @Option(names = {"--batch_size", "--eval_bs"}, defaultValue = "8", description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--limit", defaultValue = "0", description = "Evaluate at most this many windows, 0 = all.")
    int limit;

    @Option(names = "--report", description = "Write the JSON report here.")
    Path report;

    @Mixin
    ModelLoadOptions loading;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String model = positionalModel != null ? positionalModel : this.model;
        if (model == null || model.isBlank()) {
            throw new InvalidInputException("no model given", "pass the model to evaluate: MODEL or --model PATH");
        }
        if (limit < 0) {
            throw new InvalidInputException("--limit " + limit + " is negative", "use 0 (all) or a positive count");
        }
        try (LoadedModel candidate = loading.load(model);
             LoadedModel ref = reference == null ? null : loading.load(reference)) {
            var tokenizer = candidate.tokenizer() != null ? candidate.tokenizer() : ref == null ? null : ref.tokenizer();
            List<long[]> sequences = EvalData.load(data, tokenizer, seqlen);
            if (limit > 0 && sequences.size() > limit) {
                sequences = sequences.subList(0, limit);
            }
            int total = sequences.size();
            err.printf("evaluating %s (%s) on %d sequences of %s%n", model, candidate.description(), total, data);
            EvalReport r = new Evaluator(batchSize).evaluate(candidate, ref, sequences, data.toString(),
                    done -> err.printf("\r  %d/%d sequences", done, total));
            err.println();
            out.print(r.table());
            out.flush();
            if (report != null) {
                r.write(report);
                err.println("report written to " + report);
            }
        }
        return 0;
    }
}
