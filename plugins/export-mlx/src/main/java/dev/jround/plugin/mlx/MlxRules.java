package dev.jround.plugin.mlx;

import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.Optional;

/** What MLX's affine quantized layers can hold, phrased as refusals that name the layer and the rule. */
final class MlxRules {

    private MlxRules() {
    }

    static Optional<String> refusal(String format, LayerSpec layer) {
        if (!layer.quantized()) {
            return Optional.empty();
        }
        QuantScheme s = layer.scheme();
        String where = "layer " + layer.name() + " (" + s + "): ";
        String dt = s.dataType() == null ? "" : s.dataType();
        if (!dt.equals("int") && !dt.equals("int_sym") && !dt.equals("int_asym")) {
            return Optional.of(where + format + " stores MLX affine integer weights only, not data_type '" + dt
                    + "'; use --format fake, llm_compressor, fp8 or gguf for other number formats");
        }
        if (s.actBits() < 16) {
            return Optional.of(where + format + " is weight-only; activation quantization (act_bits=" + s.actBits()
                    + ") needs --format llm_compressor or fake");
        }
        if (s.superBits() > 0 || s.superGroupSize() > 0) {
            return Optional.of(where + format + " has no double-quantized scales (super_bits); use --format gguf");
        }
        if (s.bits() == 7) {
            return Optional.of(where + "MLX has no 7-bit kernels; " + format + " stores 2/3/4/5/6/8-bit weights");
        }
        if (!MlxPacking.BITS.contains(s.bits())) {
            return Optional.of(where + format + " stores 2/3/4/5/6/8-bit weights, not " + s.bits() + "-bit");
        }
        if (s.groupSize() <= 0) {
            return Optional.of(where + "MLX quantizes in groups of 32, 64 or 128 along the input; " + format
                    + " cannot store per-channel (group_size " + s.groupSize() + ") scales; use --group_size 32, 64 or 128");
        }
        if (!MlxPacking.GROUPS.contains(s.groupSize())) {
            return Optional.of(where + format + " needs group_size 32, 64 or 128 (MLX's kernels), not " + s.groupSize());
        }
        if (layer.inFeatures() % s.groupSize() != 0) {
            return Optional.of(where + format + " needs in_features " + layer.inFeatures() + " divisible by the group size "
                    + s.groupSize() + "; keep this layer in float or pick a group size that divides it");
        }
        if ((s.bits() == 3 || s.bits() == 5 || s.bits() == 6) && layer.inFeatures() % 32 != 0) {
            return Optional.of(where + format + " packs " + s.bits() + "-bit codes 32 at a time and needs in_features "
                    + layer.inFeatures() + " divisible by 32");
        }
        return Optional.empty();
    }
}
