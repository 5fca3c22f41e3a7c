package dev.jround.kernel.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.Tokenizer;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Autoregressive generation for one prompt. Each step runs the full forward over the sequence so far (no
 * key/value cache: jround runs small models and checks, not serving) and picks the next token from the last
 * position's logits.
 */
public final class Generator {

    private Generator() {
    }

    /** The prompt's token ids: the chat template's rendering of one user message, or the plain text with BOS rules. */
    public static long[] promptIds(Tokenizer tokenizer, String prompt, boolean chat) {
        if (tokenizer == null) {
            throw new InvalidInputException("the model has no tokenizer", "put tokenizer.json next to the model's config.json");
        }
        if (chat) {
            String rendered = tokenizer.applyChatTemplate(List.of(Map.of("role", "user", "content", prompt)), true);
            // the rendered template already holds its special tokens, as apply_chat_template(tokenize=True) assumes
            return tokenizer.encode(rendered, false);
        }
        return tokenizer.encode(prompt, true);
    }

    /**
     * @param stopIds token ids that end generation (they are kept in the result)
     * @return prompt followed by the generated ids
     */
    public static long[] generate(CausalLM lm, NDManager manager, long[] prompt, GenerationOptions options, Set<Long> stopIds) {
        if (prompt.length == 0) {
            throw new InvalidInputException("the prompt is empty after tokenization", "give a non-empty --prompt");
        }
        long[] seq = Arrays.copyOf(prompt, prompt.length + options.maxNewTokens());
        int len = prompt.length;
        Random random = new Random(options.seed());
        while (len < seq.length && len < lm.maxPositions()) {
            float[] logits;
            try (NDManager m = manager.newSubManager()) {
                NDArray ids = m.create(Arrays.copyOf(seq, len), new Shape(1, len));
                NDArray all = lm.logits(m, ids, BlockInputs.NONE);
                logits = all.get("0, -1, :").toFloatArray();
            }
            long next = options.doSample() ? sample(logits, options, random) : argmax(logits);
            seq[len++] = next;
            if (stopIds.contains(next)) {
                break;
            }
        }
        return Arrays.copyOf(seq, len);
    }

    /** Index of the largest logit (the first one on ties, like torch.argmax). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Temperature, top-k, top-p, then a draw from the renormalised distribution. */
    static int sample(float[] logits, GenerationOptions o, Random random) {
        int n = logits.length;
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) {
            scaled[i] = logits[i] / o.temperature();
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scaled[b], scaled[a]));
        int keep = o.topK() > 0 ? Math.min(o.topK(), n) : n;
        double max = scaled[order[0]];
        double[] p = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(scaled[order[i]] - max);
            total += p[i];
        }
        if (o.topP() < 1.0) {
            // keep the smallest prefix whose mass reaches top_p (always at least one token)
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += p[i] / total;
                if (cumulative >= o.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += p[i];
            }
        }
        double u = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
