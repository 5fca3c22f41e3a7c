package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;

import java.util.Locale;

/**
 * AutoRound's recipe presets (docs/algorithms.md). A recipe only fills values the user did not give.
 */
public enum Recipe {
    DEFAULT(8, 200, 2048, 128, null, null),
    BEST(8, 1000, 2048, 512, null, null),
    LIGHT(8, 50, 2048, 128, 5e-3, null),
    RTN(8, 0, 2048, 1, null, Boolean.TRUE),
    OPT_RTN(8, 0, 2048, 128, null, Boolean.FALSE);

    public final int batchSize;
    public final int iters;
    public final int seqlen;
    public final int nsamples;
    public final Double lr;
    public final Boolean disableOptRtn;

    Recipe(int batchSize, int iters, int seqlen, int nsamples, Double lr, Boolean disableOptRtn) {
        this.batchSize = batchSize;
        this.iters = iters;
        this.seqlen = seqlen;
        this.nsamples = nsamples;
        this.lr = lr;
        this.disableOptRtn = disableOptRtn;
    }

    public static Recipe parse(String s) {
        if (s == null || s.isBlank()) {
            return DEFAULT;
        }
        String k = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Recipe r : values()) {
            if (r.name().equals(k)) {
                return r;
            }
        }
        // listed from the constants: a recipe fills flag defaults, it names no plugin
        throw new InvalidInputException("unknown recipe '" + s + "'", "valid recipes: " + String.join(", ",
                java.util.Arrays.stream(values()).map(r -> r.name().toLowerCase(Locale.ROOT)).toList()));
    }
}
