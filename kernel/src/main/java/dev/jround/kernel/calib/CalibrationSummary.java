package dev.jround.kernel.calib;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a calibration set was made of, for the run summary and {@code jround dataset}.
 *
 * @param spec      the spec string that was prepared (after defaulting)
 * @param defaulted whether the spec was chosen by default rather than given
 * @param sources   one per spec entry, in spec order
 * @param requested {@code nsamples}
 * @param seqlen    sequence length
 * @param seed      seed
 * @param rows      rows produced
 * @param tokens    total tokens over all rows
 * @param minLength shortest row
 * @param maxLength longest row
 * @param distinctTokens number of distinct token ids used
 * @param notes     warnings and remarks, one line each
 */
public record CalibrationSummary(String spec, boolean defaulted, List<Source> sources, int requested, int seqlen,
                                 long seed, int rows, long tokens, int minLength, int maxLength, int distinctTokens,
                                 List<String> notes) {

    public CalibrationSummary {
        sources = List.copyOf(sources);
        notes = List.copyOf(notes);
    }

    /**
     * One spec entry.
     *
     * @param entry     the entry as written
     * @param provider  id of the dataset provider that served it
     * @param resolved  what it resolved to (file, cached dataset, self-generated)
     * @param records   raw records loaded
     * @param kept      rows after tokenization, concatenation, filtering and {@code num}
     * @param used      rows of this source in the final set
     * @param concat    whether rows were concatenated into chunks
     * @param chatTemplate whether the chat template was applied
     */
    public record Source(String entry, String provider, String resolved, int records, int kept, int used,
                         boolean concat, boolean chatTemplate) {
    }

    /** Human-readable report, one fact per line. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("calibration data: " + spec + (defaulted ? "  (default)" : ""));
        for (Source s : sources) {
            out.add(String.format(Locale.ROOT, "  %-28s via %-6s %s: %d records, %d kept, %d used%s%s", s.entry(),
                    s.provider(), s.resolved(), s.records(), s.kept(), s.used(), s.concat() ? ", concatenated" : "",
                    s.chatTemplate() ? ", chat template" : ""));
        }
        double mean = rows == 0 ? 0 : (double) tokens / rows;
        out.add(String.format(Locale.ROOT, "  %d of %d samples, seqlen %d, seed %d; tokens %d (rows %d..%d, mean %.1f), %d distinct ids",
                rows, requested, seqlen, seed, tokens, minLength, maxLength, mean, distinctTokens));
        for (String n : notes) {
            out.add("  note: " + n);
        }
        return out;
    }
}
