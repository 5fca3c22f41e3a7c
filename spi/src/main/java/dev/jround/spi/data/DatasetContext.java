package dev.jround.spi.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a dataset provider may use: the tokenizer, the seed, cache locations, and (for the
 * self-generated source) a sampler over the full-precision model.
 */
public interface DatasetContext {

    Tokenizer tokenizer();

    long seed();

    int seqlen();

    /** Hugging Face cache roots to search ({@code HF_HUB_CACHE}, {@code HF_DATASETS_CACHE}, ...). */
    List<Path> cacheRoots();

    /** Whether network access is allowed ({@code HF_HUB_OFFLINE} unset and not disabled). */
    boolean online();

    /** Samples token sequences from the full-precision model (seeded), if a model is loaded. */
    Optional<TextSampler> sampler();

    /** Generates {@code count} sequences of {@code length} tokens, starting from BOS. */
    interface TextSampler {
        List<long[]> sample(int count, int length, long seed, double temperature);
    }
}
