package dev.jround.plugin.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A GGUF "file type": the base tensor type of a mixture and llama.cpp's per-tensor choice
 * ({@code llama_tensor_get_type} for dense llama-family models), including the fallbacks for rows that
 * are not a whole number of blocks.
 */
public enum GgufMix {
    Q2_K_S(GgmlType.Q2_K, 21),
    Q3_K_S(GgmlType.Q3_K, 11),
    Q3_K_M(GgmlType.Q3_K, 12),
    Q3_K_L(GgmlType.Q3_K, 13),
    Q4_0(GgmlType.Q4_0, 2),
    Q4_1(GgmlType.Q4_1, 3),
    Q4_K_S(GgmlType.Q4_K, 14),
    Q4_K_M(GgmlType.Q4_K, 15),
    Q5_0(GgmlType.Q5_0, 8),
    Q5_1(GgmlType.Q5_1, 9),
    Q5_K_S(GgmlType.Q5_K, 16),
    Q5_K_M(GgmlType.Q5_K, 17),
    Q6_K(GgmlType.Q6_K, 18),
    Q8_0(GgmlType.Q8_0, 7);

    private final GgmlType base;
    private final int fileType;

    GgufMix(GgmlType base, int fileType) {
        this.base = base;
        this.fileType = fileType;
    }

    public GgmlType base() {
        return base;
    }

    /** Value of {@code general.file_type}. */
    public int fileType() {
        return fileType;
    }

    /** The {@code --format} string, e.g. {@code gguf:q4_k_m}. */
    public String format() {
        return "gguf:" + name().toLowerCase(Locale.ROOT);
    }

    public static List<String> formats() {
        return Arrays.stream(values()).map(GgufMix::format).toList();
    }

    public static Optional<GgufMix> fromFormat(String format) {
        if (format == null) {
            return Optional.empty();
        }
        String f = format.toLowerCase(Locale.ROOT).trim();
        for (GgufMix m : values()) {
            if (m.format().equals(f)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** llama.cpp's {@code use_more_bits}: the first and last eighth of the layers and every third in between. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /**
     * Where a tensor sits in the model, as the type choice needs it.
     *
     * @param ggufName  the GGUF tensor name, e.g. {@code blk.3.attn_v.weight}
     * @param nDims     number of dimensions
     * @param rowLength {@code ne[0]} (the input features of a linear layer)
     * @param layer     block index, -1 outside blocks
     * @param nLayer    number of blocks
     * @param nGqa      attention heads per key/value head
     * @param hasOutput whether the file has a separate {@code output.weight} (untied embeddings)
     */
    public record TensorRole(String ggufName, int nDims, long rowLength, int layer, int nLayer, int nGqa, boolean hasOutput) {
    }

    /** Whether the tensor stays F32 whatever the mixture (norms, biases, vectors, rope factors). */
    public static boolean keptF32(String ggufName, int nDims) {
        return nDims < 2 || !ggufName.endsWith(".weight") || ggufName.endsWith("_norm.weight")
                || ggufName.startsWith("rope_freqs");
    }

    /** The type llama.cpp's quantizer gives this tensor under this mixture. */
    public GgmlType typeFor(TensorRole r) {
        if (keptF32(r.ggufName(), r.nDims())) {
            return GgmlType.F32;
        }
        String n = r.ggufName();
        GgmlType t = base;
        if (n.equals("output.weight") || (!r.hasOutput() && n.equals("token_embd.weight"))) {
            if (r.rowLength() % base.blockSize() != 0) {
                t = GgmlType.Q8_0;
            } else if (base != GgmlType.Q8_0) {
                t = GgmlType.Q6_K;
            }
        } else if (n.equals("token_embd.weight")) {
            t = base;
        } else if (n.contains("attn_v.weight")) {
            int i = r.layer();
            switch (this) {
                case Q2_K_S -> { if (r.nGqa() >= 4) t = GgmlType.Q4_K; }
                case Q3_K_M -> t = i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case Q3_K_L -> t = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> { if (useMoreBits(i, r.nLayer())) t = GgmlType.Q6_K; }
                case Q4_K_S -> { if (i < 4) t = GgmlType.Q5_K; }
                default -> { }
            }
            if (r.nLayer() == 80 && (t == GgmlType.Q3_K || t == GgmlType.Q4_K)) {
                t = GgmlType.Q5_K;
            }
        } else if (n.contains("ffn_down")) {
            int i = r.layer();
            int nl = r.nLayer();
            switch (this) {
                case Q2_K_S -> { if (i < nl / 8) t = GgmlType.Q4_K; }
                case Q3_K_M -> t = i < nl / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case Q3_K_L -> t = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> { if (useMoreBits(i, nl)) t = GgmlType.Q6_K; }
                case Q4_K_S -> { if (i < nl / 8) t = GgmlType.Q5_K; }
                default -> { }
            }
        } else if (n.contains("attn_output.weight")) {
            if (this == Q3_K_M) {
                t = GgmlType.Q4_K;
            } else if (this == Q3_K_L) {
                t = GgmlType.Q5_K;
            }
        }
        return fallback(t, r.rowLength());
    }

    /**
     * llama.cpp's substitution for rows that are not a whole number of blocks: Q2_K/Q3_K to Q4_0, Q4_K to Q5_0,
     * Q5_K to Q5_1, Q6_K to Q8_0, and F16 when even 32 does not divide the row.
     */
    public static GgmlType fallback(GgmlType t, long rowLength) {
        if (rowLength % t.blockSize() == 0) {
            return t;
        }
        GgmlType s = switch (t) {
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> t;
        };
        return rowLength % s.blockSize() == 0 ? s : GgmlType.F16;
    }
}
