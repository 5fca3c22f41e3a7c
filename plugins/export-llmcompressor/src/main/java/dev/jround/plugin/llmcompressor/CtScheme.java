package dev.jround.plugin.llmcompressor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

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
    private static final Set<String> INT_TYPES = Set.of("int", "int_sym", "int_asym");
    private static final Set<Integer> PACKED_BITS = Set.of(2, 3, 4, 8);

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
        if (!INT_TYPES.contains(dt)) {
            return Optional.of(where + "writes integer schemes (pack-quantized, int-quantized) in this release, not data_type '"
                    + dt + "'; use --format fake for other number formats");
        }
        if (s.groupSize() == 0) {
            return Optional.of(where + "stores integer weights per group or per channel, not per tensor (group_size 0); "
                    + "use --group_size -1 (per channel) or a group size dividing in_features");
        }
        if (s.groupSize() > 0 && layer.inFeatures() % s.groupSize() != 0) {
            return Optional.of(where + "needs the group size " + s.groupSize() + " to divide in_features "
                    + layer.inFeatures() + "; use a group size that divides it or -1 (per channel)");
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
            return Optional.empty();
        }
        return Optional.of(where + "quantizes integer activations to 8 bits only (int-quantized), not act_bits " + s.actBits());
    }

    /** The group scheme of a layer that {@link #refusal} accepts. */
    static CtScheme of(QuantScheme s) {
        ObjectNode w = intArgs(s.bits(), s.sym(), s.groupSize() > 0 ? s.groupSize() : null, s.groupSize() > 0 ? "group" : "channel", false);
        if (s.actBits() >= 16) {
            return new CtScheme(PACK_QUANTIZED, w, null);
        }
        // dynamic per-token activations, as vLLM's INT8 W8A8 kernels compute them at run time
        return new CtScheme(INT_QUANTIZED, w, intArgs(s.actBits(), true, null, "token", true));
    }

    private static ObjectNode intArgs(int bits, boolean sym, Integer groupSize, String strategy, boolean dynamic) {
        ObjectNode a = JsonNodeFactory.instance.objectNode();
        a.put("num_bits", bits);
        a.put("type", "int");
        a.put("symmetric", sym);
        if (groupSize == null) {
            a.putNull("group_size");
        } else {
            a.put("group_size", groupSize);
        }
        a.put("strategy", strategy);
        a.putNull("block_structure");
        a.put("dynamic", dynamic);
        a.putNull("actorder");
        a.putNull("scale_dtype");
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

    /** Whether the codes are stored as the module's {@code weight} (int-quantized) rather than {@code weight_packed}. */
    boolean codesUnderWeight() {
        return format.equals(INT_QUANTIZED);
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
