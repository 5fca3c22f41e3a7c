package dev.jround.lib.hf;

import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.Optional;
import java.util.Set;

/** The layer constraints of the GPTQ and AWQ layouts, phrased as refusals for {@code Exporter.refusal}. */
public final class PackedRules {

    private PackedRules() {
    }

    /**
     * Why {@code format} cannot store the layer, or empty. Float layers are always fine. {@code awq} adds the
     * AWQ rules (4 bits, {@code out % 8 == 0}).
     */
    public static Optional<String> refusal(String format, LayerSpec layer, Set<Integer> bits, boolean awq) {
        if (!layer.quantized()) {
            return Optional.empty();
        }
        QuantScheme s = layer.scheme();
        String where = "layer " + layer.name() + " (" + s + "): ";
        String dt = s.dataType() == null ? "" : s.dataType();
        if (!dt.equals("int") && !dt.equals("int_sym") && !dt.equals("int_asym")) {
            return Optional.of(where + format + " stores integer weights only, not data_type '" + dt
                    + "'; use --format fake, llm_compressor, fp8 or gguf for other number formats");
        }
        if (s.actBits() < 16) {
            return Optional.of(where + format + " is weight-only; activation quantization (act_bits=" + s.actBits()
                    + ") needs --format llm_compressor or fake");
        }
        if (s.superBits() > 0 || s.superGroupSize() > 0) {
            return Optional.of(where + format + " has no double-quantized scales (super_bits); use --format gguf");
        }
        if (!bits.contains(s.bits())) {
            return Optional.of(where + format + " stores " + bits.stream().sorted().map(String::valueOf)
                    .reduce((a, b) -> a + "/" + b).orElse("") + "-bit weights, not " + s.bits() + "-bit");
        }
        if (layer.inFeatures() % 32 != 0 || layer.outFeatures() % 32 != 0) {
            return Optional.of(where + format + " packs 32 values at a time and needs in_features and out_features divisible by 32 (got "
                    + layer.inFeatures() + "x" + layer.outFeatures() + "); keep this layer in float");
        }
        if (s.groupSize() > 0 && layer.inFeatures() % s.groupSize() != 0) {
            return Optional.of(where + format + " needs the group size " + s.groupSize() + " to divide in_features "
                    + layer.inFeatures() + "; use a group size that divides it or -1 (per channel)");
        }
        if (awq && layer.outFeatures() % 8 != 0) {
            return Optional.of(where + format + " packs 8 output channels per word and needs out_features divisible by 8");
        }
        return Optional.empty();
    }
}
