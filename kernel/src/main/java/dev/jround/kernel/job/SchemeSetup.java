package dev.jround.kernel.job;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.LinearInfo;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run's resolved scheme and per-layer specs.
 *
 * @param scheme       the base scheme after preset and overrides
 * @param presetName   the preset it came from
 * @param ggufKQuant   whether the scheme is a GGUF k-quant
 * @param layers       one spec per linear layer, in model order
 * @param blockPrefixes checkpoint prefixes of the block groups (e.g. {@code model.layers})
 */
public record SchemeSetup(QuantScheme scheme, String presetName, boolean ggufKQuant, List<LayerSpec> layers,
                          List<String> blockPrefixes) {

    static SchemeSetup resolve(PluginRegistry registry, QuantizeRequest r, CausalLM lm, ModelConfig config) {
        Map<String, QuantScheme> presets = new TreeMap<>();
        for (SchemePreset p : registry.all(SchemePreset.class)) {
            p.presets().forEach((k, v) -> presets.put(k.toUpperCase(Locale.ROOT), v));
        }
        String name = r.scheme == null ? "W4A16" : r.scheme.toUpperCase(Locale.ROOT);
        QuantScheme base = presets.get(name);
        if (base == null) {
            throw new InvalidInputException("unknown scheme '" + r.scheme + "'", "valid schemes: " + String.join(", ", presets.keySet()));
        }
        QuantScheme s = base;
        if (r.bits != null) {
            s = s.withBits(r.bits);
        }
        if (r.groupSize != null) {
            s = s.withGroupSize(r.groupSize);
        }
        if (r.sym != null) {
            s = s.withSym(r.sym);
        }
        if (r.dataType != null) {
            s = s.withDataType(r.dataType);
        }
        if (r.scaleDtype != null) {
            s = s.withScaleDtype(r.scaleDtype);
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (int b = 0; b < lm.numBlocks(); b++) {
            for (LinearInfo li : lm.blockLinears(b)) {
                boolean divisible = li.inFeatures() % 32 == 0 && li.outFeatures() % 32 == 0;
                QuantScheme ls = divisible ? s : QuantScheme.FULL_PRECISION;
                layers.add(new LayerSpec(li.name(), li.inFeatures(), li.outFeatures(), ls, b, !divisible,
                        divisible ? "scheme " + name : "shape not divisible by 32"));
            }
        }
        LinearInfo head = lm.lmHead();
        layers.add(new LayerSpec(head.name(), head.inFeatures(), head.outFeatures(), QuantScheme.FULL_PRECISION, -1, false, "lm_head"));
        String prefix = lm.blockName(0).replaceAll("\\.\\d+$", "");
        return new SchemeSetup(s, name, false, layers, List.of(prefix));
    }

    /** The --print_config table. */
    String table() {
        StringBuilder sb = new StringBuilder("layer configuration:\n");
        for (LayerSpec l : layers) {
            sb.append(String.format(Locale.ROOT, "  %-48s %-28s %s%n", l.name(), l.scheme(), l.reason()));
        }
        return sb.toString();
    }
}
