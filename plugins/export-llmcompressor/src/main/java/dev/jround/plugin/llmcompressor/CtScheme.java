package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizationArgs;

import java.util.Optional;
import java.util.Set;

/**
 * One compressed-tensors config group's scheme: the compression format and the weight / input-activation
 * quantization arguments, with their keys in the order compressed-tensors serializes them. Two layers share a
 * config group exactly when their {@code CtScheme}s are equal.
 */
record CtScheme(String format, ObjectNode weights, ObjectNode inputActivations) {

    static final String PACK_QUANTIZED = "pack-quantized";
    static final String INT_QUANTIZED = "int-quantized";
    static final String FLOAT_QUANTIZED = "float-quantized";
    static final String NVFP4 = "nvfp4-pack-quantized";
    static final String MXFP4 = "mxfp4-pack-quantized";
    static final String MXFP8 = "mxfp8-quantized";
    private static final Set<String> INT_TYPES = Set.of("int", "int_sym", "int_asym");
    private static final Set<Integer> PACKED_BITS = Set.of(2, 3, 4, 8);
    static final String E4M3 = "torch.float8_e4m3fn";
    static final String UINT8 = "torch.uint8";

    /** Why the layer cannot be written as llm_compressor, or empty. */
    static Optional<String> refusal(LayerSpec layer) {
        if (!layer.quantized()) {
            return Optional.empty();
        }
        QuantScheme s = layer.scheme();
        String where = "layer " + layer.name() + " (" + s + "): llm_compressor ";
        String dt = s.dataType() == null ? "" : s.dataType();
        if (s.superBits() > 0 || s.superGroupSize() > 0) {
            return Optional.of(where + "has no double-quantized scales (super_bits); use --format gguf");
        }
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        switch (dt) {
            case "mx_fp" -> {
                if ((s.bits() != 4 && s.bits() != 8) || s.groupSize() != 32 || !s.sym()) {
                    return Optional.of(where + "stores MX floats as MXFP4 or MXFP8 (symmetric, groups of 32), not " + s.bits()
                            + "-bit group " + s.groupSize());
                }
                if (in % 32 != 0) {
                    return Optional.of(where + "needs in_features " + in + " divisible by the MX group of 32; keep this layer in float");
                }
                if (s.actBits() < 16 && (s.actBits() != s.bits() || !s.actDynamic() || s.actGroupSize() != 32)) {
                    return Optional.of(where + "writes MX activations as dynamic groups of 32 of the weights' width, not act_bits "
                            + s.actBits() + " group " + s.actGroupSize() + (s.actDynamic() ? "" : " static"));
                }
                return Optional.empty();
            }
            case "nv_fp" -> {
                if (s.bits() != 4 || s.groupSize() != 16 || !s.sym()) {
                    return Optional.of(where + "stores NV floats as NVFP4 (4-bit, groups of 16), not " + s.bits() + "-bit group " + s.groupSize());
                }
                if (in % 16 != 0) {
                    return Optional.of(where + "needs in_features " + in + " divisible by the NVFP4 group of 16; keep this layer in float");
                }
                if (s.actBits() < 16) {
                    return Optional.of(where + "NVFP4 with 4-bit activations needs the activations' global scale "
                            + "(input_global_scale, from act_max calibration), which this run does not produce; use --act_bits 16 (NVFP4A16)");
                }
                return Optional.empty();
            }
            case "fp" -> {
                if (s.bits() != 8) {
                    return Optional.of(where + "stores fp weights as FP8 E4M3, not " + s.bits() + "-bit");
                }
                QuantizationArgs w = s.weights();
                if (w.strategy() == QuantizationArgs.Strategy.BLOCK && (out % w.blockRows() != 0 || in % w.groupSize() != 0)) {
                    return Optional.of(where + "needs the " + w.blockRows() + "x" + w.groupSize() + " blocks to tile the "
                            + out + "x" + in + " weight (compressed-tensors infers the block from the scale grid)");
                }
                if (w.strategy() == QuantizationArgs.Strategy.GROUP && in % s.groupSize() != 0) {
                    return Optional.of(where + "needs the group size " + s.groupSize() + " to divide in_features " + in);
                }
                if (s.actBits() < 16) {
                    if (s.actBits() != 8) {
                        return Optional.of(where + "writes FP8 activations only, not act_bits " + s.actBits());
                    }
                    if (!s.actDynamic()) {
                        return Optional.of(where + "static FP8 activations need an input_scale from act_max calibration, which this "
                                + "run does not produce; use dynamic activations (--act_dynamic true, FP8_BLOCK) or FPW8A16");
                    }
                }
                return Optional.empty();
            }
            default -> {
            }
        }
        if (!INT_TYPES.contains(dt)) {
            return Optional.of(where + "stores int, mx_fp (MXFP4/MXFP8), nv_fp (NVFP4) and fp (FP8) weights, not data_type '"
                    + dt + "'; use --format fake for other number formats");
        }
        if (s.groupSize() == 0) {
            return Optional.of(where + "stores integer weights per group or per channel, not per tensor (group_size 0); "
                    + "use --group_size -1 (per channel) or a group size dividing in_features");
        }
        if (s.groupSize() > 0 && in % s.groupSize() != 0) {
            return Optional.of(where + "needs the group size " + s.groupSize() + " to divide in_features "
                    + in + "; use a group size that divides it or -1 (per channel)");
        }
        if (s.actBits() >= 16) {
            if (!PACKED_BITS.contains(s.bits())) {
                return Optional.of(where + "pack-quantized stores 2/3/4/8-bit integer weights, not " + s.bits() + "-bit");
            }
            return Optional.empty();
        }
        if (s.actBits() == 8) {
            if (s.bits() != 8 || !s.sym()) {
                return Optional.of(where + "int-quantized (W8A8) stores symmetric 8-bit weights with 8-bit activations, not "
                        + s.bits() + "-bit " + (s.sym() ? "symmetric" : "asymmetric") + " weights; use INT8_W8A8 or act_bits 16");
            }
            if (!s.actDynamic()) {
                return Optional.of(where + "static int8 activations need an input_scale from calibration, which this run does not produce; use dynamic activations");
            }
            return Optional.empty();
        }
        return Optional.of(where + "quantizes integer activations to 8 bits only (int-quantized), not act_bits " + s.actBits());
    }

    /** The group scheme of a layer that {@link #refusal} accepts. */
    static CtScheme of(QuantScheme s) {
        String dt = s.dataType();
        boolean acts = s.actBits() < 16;
        switch (dt) {
            case "mx_fp" -> {
                ObjectNode w = args(s.bits(), "float", true, 32, "group", null, false, UINT8);
                return new CtScheme(s.bits() == 4 ? MXFP4 : MXFP8, w, acts ? args(s.bits(), "float", true, 32, "group", null, true, UINT8) : null);
            }
            case "nv_fp" -> {
                return new CtScheme(NVFP4, args(4, "float", true, 16, "tensor_group", null, false, E4M3), null);
            }
            case "fp" -> {
                QuantizationArgs w = s.weights();
                ObjectNode wa = switch (w.strategy()) {
                    case BLOCK -> args(8, "float", true, null, "block", new int[]{w.blockRows(), w.groupSize()}, false, null);
                    case GROUP -> args(8, "float", true, s.groupSize(), "group", null, false, null);
                    case CHANNEL -> args(8, "float", true, null, "channel", null, false, null);
                    default -> args(8, "float", true, null, "tensor", null, false, null);
                };
                return new CtScheme(FLOAT_QUANTIZED, wa, acts ? activationArgs(s, "float") : null);
            }
            default -> {
            }
        }
        ObjectNode w = args(s.bits(), "int", s.sym(), s.groupSize() > 0 ? s.groupSize() : null, s.groupSize() > 0 ? "group" : "channel", null, false, null);
        if (!acts) {
            return new CtScheme(PACK_QUANTIZED, w, null);
        }
        return new CtScheme(INT_QUANTIZED, w, activationArgs(s, "int"));
    }

    /** Dynamic activations (refusal() admits no static ones): per token, per tensor or in groups, as the scheme says. */
    private static ObjectNode activationArgs(QuantScheme s, String type) {
        int g = s.actGroupSize();
        if (g > 0) {
            return args(s.actBits(), type, true, g, "group", null, true, null);
        }
        return args(s.actBits(), type, true, null, g < 0 ? "token" : "tensor", null, true, null);
    }

    private static ObjectNode args(int bits, String type, boolean sym, Integer groupSize, String strategy, int[] block,
                                   boolean dynamic, String scaleDtype) {
        ObjectNode a = JsonNodeFactory.instance.objectNode();
        a.put("num_bits", bits);
        a.put("type", type);
        a.put("symmetric", sym);
        if (groupSize == null) {
            a.putNull("group_size");
        } else {
            a.put("group_size", groupSize);
        }
        a.put("strategy", strategy);
        if (block == null) {
            a.putNull("block_structure");
        } else {
            a.putArray("block_structure").add(block[0]).add(block[1]);
        }
        a.put("dynamic", dynamic);
        a.putNull("actorder");
        if (scaleDtype == null) {
            a.putNull("scale_dtype");
        } else {
            a.put("scale_dtype", scaleDtype);
        }
        // compressed-tensors serializes the zero-point dtype only for asymmetric args
        if (sym) {
            a.putNull("zp_dtype");
        } else {
            a.put("zp_dtype", "torch.int8");
        }
        if (dynamic) {
            a.putNull("observer");
        } else {
            a.put("observer", "minmax");
        }
        a.putObject("observer_kwargs");
        return a;
    }

    /** Whether the codes are stored as the module's {@code weight} rather than {@code weight_packed}. */
    boolean codesUnderWeight() {
        return format.equals(INT_QUANTIZED) || format.equals(FLOAT_QUANTIZED) || format.equals(MXFP8);
    }

    /** The config group object: targets, weights, input_activations, output_activations, format. */
    ObjectNode group(Iterable<String> targets) {
        ObjectNode g = JsonNodeFactory.instance.objectNode();
        var t = g.putArray("targets");
        targets.forEach(t::add);
        g.set("weights", weights.deepCopy());
        if (inputActivations == null) {
            g.putNull("input_activations");
        } else {
            g.set("input_activations", inputActivations.deepCopy());
        }
        g.putNull("output_activations");
        g.put("format", format);
        return g;
    }
}
