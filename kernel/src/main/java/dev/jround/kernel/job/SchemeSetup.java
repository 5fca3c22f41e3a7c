package dev.jround.kernel.job;

import dev.jround.kernel.config.ConfigTable;
import dev.jround.kernel.config.LayerConfigResolver;
import dev.jround.kernel.config.ResolvedScheme;
import dev.jround.kernel.config.SchemeOverrides;
import dev.jround.kernel.config.SchemeResolver;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run's resolved scheme and per-layer specs, from the kernel's scheme and layer-config resolution
 * over the presets that {@link SchemePreset} plugins contribute.
 *
 * @param scheme        the base scheme after preset and overrides
 * @param presetName    the preset it came from
 * @param ggufKQuant    whether the scheme is a GGUF k-quant preset
 * @param layers        one spec per linear layer, in model order (blocks, then lm_head)
 * @param blockPrefixes checkpoint prefixes of the block groups (e.g. {@code model.layers})
 */
public record SchemeSetup(QuantScheme scheme, String presetName, boolean ggufKQuant, List<LayerSpec> layers,
                          List<String> blockPrefixes) {

    static SchemeSetup resolve(PluginRegistry registry, QuantizeRequest r, CausalLM lm, ModelConfig config,
                               ProgressListener progress) {
        Map<String, QuantScheme> presets = new TreeMap<>();
        for (SchemePreset p : registry.all(SchemePreset.class)) {
            p.presets().forEach((k, v) -> presets.put(k.toUpperCase(Locale.ROOT), v));
        }
        // A GGUF format names its own preset (GGUF:Q4_K_M); the format wins over --scheme, as in AutoRound.
        String presetName = r.scheme();
        for (String f : r.formats()) {
            String key = f.toUpperCase(Locale.ROOT);
            if (key.startsWith("GGUF:") && presets.containsKey(key)) {
                presetName = key;
            }
        }
        ResolvedScheme base = SchemeResolver.resolve(presetName,
                new SchemeOverrides(r.bits(), r.groupSize(), r.sym(), r.dataType(), r.scaleDtype(), null), presets);
        base.warnings().forEach(progress::message);
        LayerConfigResolver.Resolution res = LayerConfigResolver.resolve(lm, base, r.layerConfig(), r.ignoreLayers(),
                r.quantLmHead(), presets, r.toQuantBlockNames());
        res.warnings().forEach(progress::message);
        // The group prefix stays model.layers under --to_quant_block_names: the unselected blocks' layers reach
        // the exporters as full-precision specs (extra_config bits 16), which every loader reads (docs/algorithms.md).
        String prefix = lm.blockName(0).replaceAll("\\.\\d+$", "");
        boolean kQuant = base.gguf() && base.presetName().contains("_K");
        return new SchemeSetup(base.scheme(), base.presetName(), kQuant, res.layers(), List.of(prefix));
    }

    /** The --print_config table. */
    String table() {
        return ConfigTable.render(layers);
    }
}
