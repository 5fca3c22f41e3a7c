package dev.jround.cli;

import java.util.List;
import ai.djl.ndarray.NDManager;
import dev.jround.kernel.eval.GenerationOptions;
import dev.jround.kernel.eval.Generator;
import dev.jround.kernel.model.LoadedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code jround generate}: continue a prompt with any model jround can open (full precision or quantized). */
@Command(name = "generate", description = "Generate text from a prompt (greedy, or sampled with --do_sample).")
public final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"--model", "--model_name", "--model_name_or_path"}, required = true,
            description = "Model directory, quantized checkpoint or .gguf file.")
    String model;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @Option(names = "--max_new_tokens", defaultValue = "64", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--do_sample", description = "Sample instead of greedy decoding.")
    boolean doSample;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top_k", defaultValue = "50", description = "Keep the k most likely tokens, 0 = off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top_p", defaultValue = "1.0", description = "Nucleus sampling mass, 1.0 = off (default ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the sampler (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--chat", description = "Wrap the prompt as one user message in the tokenizer's chat template.")
    boolean chat;

    @Mixin
    ModelLoadOptions loading;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        GenerationOptions options = new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed);
        try (LoadedModel m = loading.load(model);
             NDManager manager = m.device().newManager()) {
            long[] promptIds = Generator.promptIds(m.tokenizer(), prompt, chat);
            Set<Long> stop = new HashSet<>();
            if (m.tokenizer().eosTokenId() >= 0) {
                stop.add(m.tokenizer().eosTokenId());
            }
            Object eos = m.config().value("eos_token_id").orElse(null);
            for (Object e : eos instanceof List<?> l ? l : java.util.Collections.singletonList(eos)) {
                if (e instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
                    stop.add(n.longValue());
                }
            }
            long start = System.nanoTime();
            long[] all = Generator.generate(m.lm(), manager, promptIds, options, stop);
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] generated = Arrays.copyOfRange(all, promptIds.length, all.length);
            String shown = chat ? m.tokenizer().decode(generated, true)
                    : m.tokenizer().decode(all, true);
            out.println(shown);
            spec.commandLine().getErr().printf(Locale.ROOT, "%d new tokens in %.2f s (%s)%n", generated.length, seconds, m.description());
        }
        return 0;
    }
}
