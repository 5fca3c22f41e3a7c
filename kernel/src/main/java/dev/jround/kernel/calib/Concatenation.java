package dev.jround.kernel.calib;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Concatenate-then-chunk ({@code concat}): strip the BOS/EOS the tokenizer added to each sample, append
 * the tokens to a running buffer, and emit {@code [BOS] + chunk + [EOS]} rows of {@code seqlen} tokens;
 * the final partial buffer is dropped.
 */
public final class Concatenation {

    /** Which variant of the chunking runs. */
    public enum Mode {
        /** What the reference means to do: the BOS/EOS overhead is counted once, every chunk is exactly seqlen. */
        INTENDED,
        /**
         * Bit-for-bit the reference: its special-token counter grows by one or two per input sample, so
         * for BOS-adding tokenizers chunks drift in length (and may exceed seqlen) after the first few.
         */
        REFERENCE
    }

    private Concatenation() {
    }

    public static List<long[]> chunk(List<long[]> samples, int seqlen, long bosId, long eosId, Mode mode) {
        return mode == Mode.REFERENCE ? reference(samples, seqlen, bosId, eosId) : intended(samples, seqlen, bosId, eosId);
    }

    private static List<long[]> intended(List<long[]> samples, int seqlen, long bosId, long eosId) {
        boolean hasBos = false;
        boolean hasEos = false;
        List<long[]> stripped = new ArrayList<>();
        for (long[] s : samples) {
            int from = 0;
            int to = s.length;
            if (to > from && bosId >= 0 && s[from] == bosId) {
                from++;
                hasBos = true;
            }
            if (to > from && eosId >= 0 && s[to - 1] == eosId) {
                to--;
                hasEos = true;
            }
            stripped.add(Arrays.copyOfRange(s, from, to));
        }
        int overhead = (hasBos ? 1 : 0) + (hasEos ? 1 : 0);
        int room = seqlen - overhead;
        List<long[]> out = new ArrayList<>();
        if (room <= 0) {
            return out;
        }
        long[] buf = new long[room];
        int used = 0;
        for (long[] s : stripped) {
            int pos = 0;
            while (pos < s.length) {
                int n = Math.min(room - used, s.length - pos);
                System.arraycopy(s, pos, buf, used, n);
                used += n;
                pos += n;
                if (used == room) {
                    out.add(wrap(buf, used, hasBos, bosId, hasEos, eosId));
                    used = 0;
                }
            }
        }
        return out;
    }

    private static long[] wrap(long[] body, int len, boolean bos, long bosId, boolean eos, long eosId) {
        long[] row = new long[len + (bos ? 1 : 0) + (eos ? 1 : 0)];
        int o = 0;
        if (bos) {
            row[o++] = bosId;
        }
        System.arraycopy(body, 0, row, o, len);
        if (eos) {
            row[row.length - 1] = eosId;
        }
        return row;
    }

    /** Python slice {@code s[:stop]} with negative stops counted from the end. */
    private static long[] head(long[] s, int stop) {
        int end = stop >= 0 ? Math.min(stop, s.length) : Math.max(0, s.length + stop);
        return Arrays.copyOfRange(s, 0, end);
    }

    /** Python slice {@code s[start:]}. */
    private static long[] tail(long[] s, int start) {
        int begin = start >= 0 ? Math.min(start, s.length) : Math.max(0, s.length + start);
        return Arrays.copyOfRange(s, begin, s.length);
    }

    private static long[] cat(long[] a, long[] b) {
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static List<long[]> reference(List<long[]> samples, int seqlen, long bosId, long eosId) {
        int os = 0;
        boolean hasBos = false;
        boolean hasEos = false;
        long[] buf = new long[0];
        List<long[]> out = new ArrayList<>();
        for (long[] original : samples) {
            long[] s = original;
            // as the reference: an empty sample would raise there; here it simply contributes nothing
            if (s.length > 0 && s[0] == bosId) {
                s = Arrays.copyOfRange(s, 1, s.length);
                os++;
                hasBos = true;
            }
            if (s.length > 0 && s[s.length - 1] == eosId) {
                s = Arrays.copyOf(s, s.length - 1);
                os++;
                hasEos = true;
            }
            if (buf.length + s.length + os > seqlen) {
                int keep = seqlen - buf.length - os;
                long[] body = cat(buf, head(s, keep));
                out.add(wrap(body, body.length, hasBos, bosId, hasEos, eosId));
                buf = tail(s, keep);
            } else {
                buf = cat(buf, s);
            }
            if (buf.length + os == seqlen) {
                out.add(wrap(buf, buf.length, hasBos, bosId, hasEos, eosId));
                buf = new long[0];
            }
        }
        return out;
    }
}
