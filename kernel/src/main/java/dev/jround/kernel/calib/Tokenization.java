package dev.jround.kernel.calib;

import dev.jround.spi.data.Tokenizer;

import java.util.Arrays;

/** Tokenizing with {@code truncation=True, max_length=L} as Hugging Face tokenizers do it for one sequence. */
public final class Tokenization {

    private Tokenization() {
    }

    /**
     * Encodes with the tokenizer's special tokens and, if longer than {@code maxLength}, keeps the
     * special tokens the tokenizer adds around the text (e.g. a leading BOS, a trailing EOS) and cuts the
     * text tokens on the right, so the result is exactly {@code maxLength} long.
     */
    public static long[] encodeTruncated(Tokenizer tok, String text, int maxLength) {
        long[] full = tok.encode(text, true);
        if (full.length <= maxLength) {
            return full;
        }
        long[] plain = tok.encode(text, false);
        int prefix = 0;
        int suffix = 0;
        int added = full.length - plain.length;
        if (added > 0) {
            // find where the plain ids sit inside the full ids (special tokens before and after)
            for (int p = 0; p <= added; p++) {
                if (Arrays.equals(full, p, p + plain.length, plain, 0, plain.length)) {
                    prefix = p;
                    suffix = added - p;
                    break;
                }
            }
        }
        int keep = Math.max(0, maxLength - prefix - suffix);
        long[] out = new long[Math.min(maxLength, prefix + keep + suffix)];
        System.arraycopy(full, 0, out, 0, Math.min(prefix, out.length));
        System.arraycopy(full, prefix, out, prefix, Math.min(keep, out.length - prefix));
        int tailStart = out.length - suffix;
        if (suffix > 0 && tailStart >= prefix) {
            System.arraycopy(full, full.length - suffix, out, tailStart, suffix);
        }
        return out;
    }
}
