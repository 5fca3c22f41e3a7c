package dev.jround.spi.data;

import dev.jround.spi.UnsupportedFeatureException;

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

    /** Number of calibration samples the run asks for (a provider may stop reading after enough rows). */
    default int nsamples() {
        return Integer.MAX_VALUE;
    }

    /**
     * Order Python's {@code random.Random(seed).shuffle} gives a list of {@code n} elements: element
     * {@code i} of the shuffled list is original element {@code order[i]}.
     */
    default int[] pythonShuffleOrder(int n, long seed) {
        throw new UnsupportedFeatureException("this dataset context cannot reproduce Python's seeded shuffle",
                "run through the kernel's calibration pipeline");
    }

    /**
     * NumPy's {@code np.random.default_rng(seed).permutation(n)}, the order Hugging Face
     * {@code Dataset.shuffle(seed=seed)} gives a dataset of {@code n} rows.
     */
    default int[] numpyPermutation(int n, long seed) {
        throw new UnsupportedFeatureException("this dataset context cannot reproduce NumPy's seeded permutation",
                "run through the kernel's calibration pipeline");
    }

    /**
     * Order Hugging Face {@code IterableDataset.shuffle(seed, buffer_size)} gives a streamed dataset whose
     * shards (data files, in name order) hold {@code shardSizes} rows: indices into the shards' rows laid end
     * to end, at most {@code limit} of them (the reference's {@code take(limit)}).
     */
    default int[] streamingShuffleOrder(int[] shardSizes, int bufferSize, long seed, int limit) {
        throw new UnsupportedFeatureException("this dataset context cannot reproduce the streaming shuffle",
                "run through the kernel's calibration pipeline");
    }

    /** One informational line for the user (which file was read, what fell back to what). */
    default void info(String line) {
    }

    /** Generates {@code count} sequences of {@code length} tokens, starting from BOS. */
    interface TextSampler {
        List<long[]> sample(int count, int length, long seed, double temperature);
    }
}
