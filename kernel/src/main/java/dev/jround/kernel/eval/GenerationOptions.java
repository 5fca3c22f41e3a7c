package dev.jround.kernel.eval;

import dev.jround.spi.InvalidInputException;

/**
 * How {@link Generator} picks tokens: greedy (argmax) unless {@code doSample}; sampling applies temperature,
 * then top-k, then top-p (nucleus) filtering, as transformers' logits warpers do, and draws with a
 * generator seeded by {@code seed}.
 */
public record GenerationOptions(int maxNewTokens, boolean doSample, double temperature, int topK, double topP, long seed) {

    public GenerationOptions {
        if (maxNewTokens < 0) {
            throw new InvalidInputException("--max_new_tokens " + maxNewTokens + " is negative", "use 0 or more");
        }
        if (doSample && !(temperature > 0)) {
            throw new InvalidInputException("--temperature " + temperature + " must be positive when sampling", "use e.g. 0.7 or 1.0");
        }
        if (topK < 0) {
            throw new InvalidInputException("--top_k " + topK + " is negative", "use 0 (off) or a positive count");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidInputException("--top_p " + topP + " is outside (0, 1]", "use 1.0 (off) or e.g. 0.9");
        }
    }

    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, false, 1.0, 0, 1.0, 0);
    }
}
