package dev.jround.kernel.config;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantScheme;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Preset plus overrides to the run's scheme (docs/algorithms.md). Presets come from the caller (collected from the
 * {@code SchemePreset} plugins), so the kernel names none.
 */
public final class SchemeResolver {

    /** Weight format families whose trailing digits give the bit width ({@code int4}, {@code mx_fp4}, {@code fp8}). */
    static final List<String> FAMILIES = List.of("int", "mx_fp", "fp", "nv_fp", "mx_int");

    private SchemeResolver() {
    }

    /**
     * @param presetName case-insensitive preset name (the catalog's default when null)
     * @param presets    the installed presets and their traits
     */
    public static ResolvedScheme resolve(String presetName, SchemeOverrides overrides, PresetCatalog presets) {
        SchemeOverrides o = overrides == null ? SchemeOverrides.NONE : overrides;
        List<String> warnings = new ArrayList<>();
        String name = (presetName == null ? presets.defaultPreset() : presetName.strip()).toUpperCase(Locale.ROOT);
        presets.requireUnambiguous(name);
        // 1. a data type with a preset of its own (AutoRound's *_dq: a k-quant) re-bases an overridable preset on it
        if (o.dataType() != null && presets.schemes().containsKey(name) && !presets.traits(name).fixed()) {
            Optional<String> rebased = presets.presetForDataType(o.dataType(), o.bits());
            if (rebased.isPresent()) {
                name = rebased.get();
            }
        }
        QuantScheme base = lookup(name, presets.schemes());
        PresetTraits traits = presets.traits(name);
        QuantScheme s = base;
        if (traits.fixed()) {
            // 2. a fixed preset (its format lays out every tensor) takes no overrides
            if (o.any()) {
                String kind = traits.family().isEmpty() ? "fixed" : traits.family();
                warnings.add("scheme " + name + " is a " + kind + " preset: --bits/--group_size/--sym/--data_type overrides are ignored");
            }
            if (o.scaleDtype() == null && !"fp32".equals(base.scaleDtype())) {
                s = s.withScaleDtype("fp32");
            }
        } else {
            // 3. overrides on top of the preset
            if (o.bits() != null) {
                s = s.withBits(o.bits());
            }
            if (o.groupSize() != null) {
                s = s.withGroupSize(o.groupSize());
            }
            if (o.sym() != null) {
                s = s.withSym(o.sym());
            }
            if (o.dataType() != null) {
                s = s.withDataType(o.dataType().strip().toLowerCase(Locale.ROOT));
            }
            if (o.actBits() != null) {
                s = s.withActBits(o.actBits());
            }
            s = withActivationOverrides(s, o);
        }
        if (o.scaleDtype() != null) {
            s = s.withScaleDtype(normalizeScaleDtype(o.scaleDtype(), "--scale_dtype"));
        }
        s = reconcileBits(s, warnings);
        validate(s, "--bits", "--group_size");
        return new ResolvedScheme(name, s, traits, List.copyOf(warnings));
    }

    /** The activation half of the scheme normalisation (docs/algorithms.md): {@code --act_data_type mx_fp8} gives data type mx_fp and 8 bits. */
    static QuantScheme withActivationOverrides(QuantScheme s, SchemeOverrides o) {
        if (o.actGroupSize() == null && o.actSym() == null && o.actDataType() == null && o.actDynamic() == null) {
            return s;
        }
        QuantScheme.Builder b = s.toBuilder();
        if (o.actGroupSize() != null) {
            b.actGroupSize(o.actGroupSize());
        }
        if (o.actSym() != null) {
            b.actSym(o.actSym());
        }
        if (o.actDynamic() != null) {
            b.actDynamic(o.actDynamic());
        }
        if (o.actDataType() != null) {
            String d = o.actDataType().strip().toLowerCase(Locale.ROOT);
            int inferred = inferredBits(d);
            if (inferred > 0 && inferred < 16 && o.actBits() == null) {
                b.actBits(inferred);
            }
            for (String family : FAMILIES) {
                if (d.equals(family + inferred)) {
                    d = family;
                    break;
                }
            }
            b.actDataType(d);
        }
        return b.build();
    }

    /** Whether optimized RTN is off: the user's choice, else on for everything except int with 8-bit weights and activations >= 8. */
    public static boolean effectiveDisableOptRtn(Boolean userChoice, QuantScheme scheme) {
        if (userChoice != null) {
            return userChoice;
        }
        return scheme.dataType().startsWith("int") && scheme.bits() >= 8 && scheme.actBits() >= 8;
    }

    static QuantScheme lookup(String upperName, Map<String, QuantScheme> presets) {
        for (Map.Entry<String, QuantScheme> e : presets.entrySet()) {
            if (e.getKey().toUpperCase(Locale.ROOT).equals(upperName)) {
                return e.getValue();
            }
        }
        TreeSet<String> names = new TreeSet<>();
        presets.keySet().forEach(k -> names.add(k.toUpperCase(Locale.ROOT)));
        throw new InvalidInputException("unknown scheme '" + upperName + "'", "valid schemes: " + String.join(", ", names));
    }

    /** Bits implied by a data type's trailing digits ({@code int4} to 4), or -1. */
    static int inferredBits(String dataType) {
        if (dataType == null) {
            return -1;
        }
        for (String family : FAMILIES) {
            if (dataType.startsWith(family) && dataType.length() > family.length()) {
                String rest = dataType.substring(family.length());
                if (rest.length() >= 2 && Character.isDigit(rest.charAt(0)) && Character.isDigit(rest.charAt(1))) {
                    return Integer.parseInt(rest.substring(0, 2));
                }
                if (Character.isDigit(rest.charAt(0))) {
                    return rest.charAt(0) - '0';
                }
            }
        }
        return -1;
    }

    /** The bits-from-data-type rule of the scheme normalisation (docs/algorithms.md): {@code mx_fp4} becomes {@code mx_fp} with 4 bits; digits below 16 overwrite bits. */
    static QuantScheme reconcileBits(QuantScheme s, List<String> warnings) {
        int inferred = inferredBits(s.dataType());
        if (inferred < 0) {
            return s;
        }
        QuantScheme r = s;
        if (inferred < 16 && inferred != s.bits()) {
            warnings.add("data_type " + s.dataType() + " implies " + inferred + " bits; bits " + s.bits() + " replaced");
            r = r.withBits(inferred);
        }
        for (String family : FAMILIES) {
            if (r.dataType().equals(family + inferred)) {
                r = r.withDataType(family);
                break;
            }
        }
        return r;
    }

    static void validate(QuantScheme s, String bitsFlag, String groupFlag) {
        if (s.bits() <= 0) {
            throw new InvalidInputException(bitsFlag + " " + s.bits() + " is invalid", "bits must be positive (2, 3, 4, 8; 16 keeps a layer unquantized)");
        }
        if (s.actBits() <= 0) {
            throw new InvalidInputException("act_bits " + s.actBits() + " is invalid", "act_bits must be positive (16 = activations not quantized)");
        }
        if (s.groupSize() < -1) {
            throw new InvalidInputException(groupFlag + " " + s.groupSize() + " is invalid", "group_size is -1 (per channel), 0 (per tensor) or a positive size such as 32, 64, 128");
        }
        if (s.bits() > 16 && s.bits() != 32) {
            // bits >= 16 means "keep full precision": a typo such as 64 must not silently quantize nothing
            throw new InvalidInputException(bitsFlag + " " + s.bits() + " is invalid", "bits are 2 to 8 (data types with their own width: 4 or 8), or 16 to keep full precision");
        }
        if ("int".equals(s.dataType()) && ((s.bits() > 8 && s.bits() < 16) || s.bits() == 1)) {
            throw new InvalidInputException(bitsFlag + " " + s.bits() + " is not supported for integer weights", "integer weights take 2 to 8 bits, or 16 to keep full precision");
        }
    }

    /** {@code fp16}/{@code float16}, {@code bf16}/{@code bfloat16}, {@code fp32}/{@code float32} to fp16/bf16/fp32. */
    public static String normalizeScaleDtype(String value, String flag) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "fp16", "float16", "half", "torch.float16" -> "fp16";
            case "bf16", "bfloat16", "torch.bfloat16" -> "bf16";
            case "fp32", "float32", "float", "torch.float32" -> "fp32";
            default -> throw new InvalidInputException(flag + " '" + value + "' is not a scale dtype",
                    "valid values: fp16, float16, bf16, bfloat16, fp32, float32");
        };
    }
}
