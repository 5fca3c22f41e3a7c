package dev.jround.plugin.gguf;

import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GGUF tensor names of the tensor roles architectures declare (llama.cpp's {@code TENSOR_NAMES}), the reader's
 * way back to the llama plugin's checkpoint names, the tensor order of the file, and the row permutation of the
 * query/key projections that llama.cpp's {@code llama} graph expects.
 */
public final class GgufNames {

    private static final Pattern BLK = Pattern.compile("^blk\\.(\\d+)\\.(.+)$");

    /** llama.cpp's base name of every role GGUF stores, per block ones without their {@code blk.N.} prefix. */
    private static final Map<TensorRole, String> ROLE_NAMES = new EnumMap<>(Map.ofEntries(
            Map.entry(TensorRole.TOKEN_EMBD, "token_embd"),
            Map.entry(TensorRole.TOKEN_EMBD_NORM, "token_embd_norm"),
            Map.entry(TensorRole.POS_EMBD, "position_embd"),
            Map.entry(TensorRole.OUTPUT_NORM, "output_norm"),
            Map.entry(TensorRole.OUTPUT, "output"),
            Map.entry(TensorRole.ROPE_FREQS, "rope_freqs"),
            Map.entry(TensorRole.ATTN_NORM, "attn_norm"),
            Map.entry(TensorRole.ATTN_Q, "attn_q"),
            Map.entry(TensorRole.ATTN_K, "attn_k"),
            Map.entry(TensorRole.ATTN_V, "attn_v"),
            Map.entry(TensorRole.ATTN_OUT, "attn_output"),
            Map.entry(TensorRole.ATTN_Q_NORM, "attn_q_norm"),
            Map.entry(TensorRole.ATTN_K_NORM, "attn_k_norm"),
            Map.entry(TensorRole.FFN_NORM, "ffn_norm"),
            Map.entry(TensorRole.FFN_GATE, "ffn_gate"),
            Map.entry(TensorRole.FFN_UP, "ffn_up"),
            Map.entry(TensorRole.FFN_DOWN, "ffn_down"),
            Map.entry(TensorRole.FFN_GATE_INP, "ffn_gate_inp")));

    /** HF suffix inside a decoder layer and its GGUF suffix inside {@code blk.N}: how the reader names tensors back. */
    private static final List<String[]> LAYER_MAP = List.of(
            new String[]{"self_attn.q_proj.weight", "attn_q.weight"},
            new String[]{"self_attn.k_proj.weight", "attn_k.weight"},
            new String[]{"self_attn.v_proj.weight", "attn_v.weight"},
            new String[]{"self_attn.o_proj.weight", "attn_output.weight"},
            new String[]{"mlp.gate_proj.weight", "ffn_gate.weight"},
            new String[]{"mlp.up_proj.weight", "ffn_up.weight"},
            new String[]{"mlp.down_proj.weight", "ffn_down.weight"},
            new String[]{"input_layernorm.weight", "attn_norm.weight"},
            new String[]{"post_attention_layernorm.weight", "ffn_norm.weight"},
            new String[]{"self_attn.q_proj.bias", "attn_q.bias"},
            new String[]{"self_attn.k_proj.bias", "attn_k.bias"},
            new String[]{"self_attn.v_proj.bias", "attn_v.bias"},
            new String[]{"self_attn.o_proj.bias", "attn_output.bias"},
            new String[]{"self_attn.q_norm.weight", "attn_q_norm.weight"},
            new String[]{"self_attn.k_norm.weight", "attn_k_norm.weight"});

    private GgufNames() {
    }

    /** Whether GGUF leaves tensors of this role out: llama.cpp derives them (rotary tables) itself. */
    static boolean derived(TensorRole role) {
        return role == TensorRole.ROT_EMBD || role == TensorRole.ATTN_ROT_EMBD;
    }

    /**
     * The GGUF name of a tensor, e.g. {@code blk.3.attn_q.weight}. Empty when GGUF has no place for it: a role
     * llama.cpp derives ({@link #derived}) or does not store, a single expert's weight (llama.cpp keeps a block's
     * experts merged in one tensor), or a stored buffer.
     */
    public static Optional<String> of(TensorSlot slot) {
        String base = ROLE_NAMES.get(slot.role());
        if (base == null || slot.part() == TensorSlot.Part.BUFFER) {
            return Optional.empty();
        }
        String suffix = slot.part() == TensorSlot.Part.BIAS ? ".bias" : ".weight";
        return Optional.of((slot.block() >= 0 ? "blk." + slot.block() + "." : "") + base + suffix);
    }

    /** The HF name of a GGUF tensor, or {@code null} if it has none (rope_freqs). */
    public static String toHf(String gguf) {
        switch (gguf) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
                break;
        }
        Matcher m = BLK.matcher(gguf);
        if (m.matches()) {
            for (String[] e : LAYER_MAP) {
                if (e[1].equals(m.group(2))) {
                    return "model.layers." + m.group(1) + "." + e[0];
                }
            }
        }
        return null;
    }

    /** Block index of a GGUF name, or -1. */
    public static int layerOf(String gguf) {
        Matcher m = BLK.matcher(gguf);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Rank of a GGUF tensor in the file: rope factors, then every block in order, then embeddings and head. */
    static long orderKey(String gguf) {
        if (gguf.startsWith("rope_freqs")) {
            return 0;
        }
        int layer = layerOf(gguf);
        if (layer >= 0) {
            String suffix = gguf.substring(gguf.indexOf('.', 4) + 1);
            for (int i = 0; i < ROLE_ORDER.size(); i++) {
                if (ROLE_ORDER.get(i).equals(suffix)) {
                    return 1 + (long) layer * 100 + i;
                }
            }
            return 1 + (long) layer * 100 + 99;
        }
        return switch (gguf) {
            case "token_embd.weight" -> Long.MAX_VALUE - 3;
            case "output_norm.weight" -> Long.MAX_VALUE - 2;
            case "output.weight" -> Long.MAX_VALUE - 1;
            default -> Long.MAX_VALUE;
        };
    }

    private static final List<String> ROLE_ORDER = List.of("attn_q.weight", "attn_k.weight", "attn_v.weight",
            "attn_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "attn_norm.weight",
            "ffn_norm.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias", "attn_q_norm.weight",
            "attn_k_norm.weight");

    /** Tensor order of the reference converter (blocks first, then embeddings, final norm and head). */
    public static int compare(String a, String b) {
        int c = Long.compare(orderKey(a), orderKey(b));
        return c != 0 ? c : a.compareTo(b);
    }

    /**
     * Reorders the rows of a q/k projection (weights {@code [rows, cols]}, or a bias with {@code cols = 1}) from
     * the HF rotary layout (halves) to llama.cpp's interleaved pairs: new row {@code h*hd + 2i + j} is old row
     * {@code h*hd + j*hd/2 + i}.
     */
    public static float[] permuteForLlama(float[] w, int rows, int cols, int heads) {
        float[] out = new float[w.length];
        int[] map = permutation(rows, heads);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, map[r] * cols, out, r * cols, cols);
        }
        return out;
    }

    /** Inverse of {@link #permuteForLlama}. */
    public static float[] unpermuteForLlama(float[] w, int rows, int cols, int heads) {
        float[] out = new float[w.length];
        int[] map = permutation(rows, heads);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, r * cols, out, map[r] * cols, cols);
        }
        return out;
    }

    /** Same row permutation applied to per-row integer data of width {@code cols}. */
    public static int[] permuteForLlama(int[] w, int rows, int cols, int heads) {
        int[] out = new int[w.length];
        int[] map = permutation(rows, heads);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, map[r] * cols, out, r * cols, cols);
        }
        return out;
    }

    /** Same row permutation applied to encoded rows of {@code rowBytes} bytes each. */
    public static byte[] permuteRowsForLlama(byte[] data, int rows, int rowBytes, int heads) {
        byte[] out = new byte[data.length];
        int[] map = permutation(rows, heads);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(data, map[r] * rowBytes, out, r * rowBytes, rowBytes);
        }
        return out;
    }

    /** {@code result[newRow] = oldRow}. */
    static int[] permutation(int rows, int heads) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows cannot be split into " + heads + " heads of even size");
        }
        int hd = rows / heads;
        int half = hd / 2;
        int[] map = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    map[h * hd + 2 * i + j] = h * hd + j * half + i;
                }
            }
        }
        return map;
    }
}
