package dev.jround.kernel.calib;

import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.data.Tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/** The kernel's {@link DatasetContext}: settings of one preparation run plus the reference's seeded orders. */
public final class CalibrationContext implements DatasetContext {

    private final Tokenizer tokenizer;
    private final long seed;
    private final int seqlen;
    private final int nsamples;
    private final List<Path> cacheRoots;
    private final boolean online;
    private final TextSampler sampler;
    private final Consumer<String> log;
    private final boolean codeModel;

    private CalibrationContext(Builder b) {
        this.tokenizer = b.tokenizer;
        this.seed = b.seed;
        this.seqlen = b.seqlen;
        this.nsamples = b.nsamples;
        this.cacheRoots = List.copyOf(b.cacheRoots != null ? b.cacheRoots : HfCachePaths.roots(b.env));
        this.online = b.online != null ? b.online : HfCachePaths.online(b.env);
        this.sampler = b.sampler;
        this.log = b.log;
        this.codeModel = b.codeModel;
    }

    /** Whether the model is code-specialised ({@link CodeModels}): its default calibration set is code. */
    public boolean codeModel() {
        return codeModel;
    }

    /** @param tokenizer the model's tokenizer; may be {@code null} when only token-id sources (self) are used */
    public static Builder builder(Tokenizer tokenizer) {
        return new Builder(tokenizer);
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public int seqlen() {
        return seqlen;
    }

    @Override
    public int nsamples() {
        return nsamples;
    }

    @Override
    public List<Path> cacheRoots() {
        return cacheRoots;
    }

    @Override
    public boolean online() {
        return online;
    }

    @Override
    public Optional<TextSampler> sampler() {
        return Optional.ofNullable(sampler);
    }

    @Override
    public int[] pythonShuffleOrder(int n, long seed) {
        return PythonRandom.shuffleOrder(n, seed);
    }

    @Override
    public int[] numpyPermutation(int n, long seed) {
        return NumpyPcg64.permutation(n, seed);
    }

    @Override
    public int[] streamingShuffleOrder(int[] shardSizes, int bufferSize, long seed, int limit) {
        return StreamingShuffle.order(shardSizes, bufferSize, seed, limit);
    }

    @Override
    public void info(String line) {
        log.accept(line);
    }

    /** Builder; cache roots and online state default to the process environment ({@code HF_HOME} ...). */
    public static final class Builder {
        private final Tokenizer tokenizer;
        private long seed = 42;
        private int seqlen = 2048;
        private int nsamples = 128;
        private List<Path> cacheRoots;
        private Boolean online;
        private Map<String, String> env = System.getenv();
        private TextSampler sampler;
        private Consumer<String> log = line -> { };
        private boolean codeModel;

        private Builder(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder seqlen(int v) {
            seqlen = v;
            return this;
        }

        public Builder nsamples(int v) {
            nsamples = v;
            return this;
        }

        public Builder cacheRoots(List<Path> v) {
            cacheRoots = v;
            return this;
        }

        public Builder online(boolean v) {
            online = v;
            return this;
        }

        /** Environment to read {@code HF_*} variables from (tests pass their own). */
        public Builder env(Map<String, String> v) {
            env = Map.copyOf(v);
            return this;
        }

        public Builder sampler(TextSampler v) {
            sampler = v;
            return this;
        }

        public Builder log(Consumer<String> v) {
            log = Objects.requireNonNull(v);
            return this;
        }

        /** Marks a code-specialised model (see {@link CodeModels#isCodeModel}); changes the default dataset. */
        public Builder codeModel(boolean v) {
            codeModel = v;
            return this;
        }

        public CalibrationContext build() {
            return new CalibrationContext(this);
        }
    }
}
