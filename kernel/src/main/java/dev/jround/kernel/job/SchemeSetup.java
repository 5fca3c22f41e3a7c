package dev.jround.kernel.job;

import dev.jround.kernel.config.ConfigTable;
import dev.jround.kernel.config.LayerConfigResolver;
import dev.jround.kernel.config.PresetCatalog;
import dev.jround.kernel.config.ResolvedScheme;
import dev.jround.kernel.config.SchemeOverrides;
import dev.jround.kernel.config.SchemeResolver;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.ProgressListener;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;
import java.util.Optional;

/**
 * The run's resolved scheme and per-layer specs, from the kernel's scheme and layer-config resolution
 * over the presets that {@link SchemePreset} plugins contribute.
 *
 * @param scheme        the base scheme after preset and overrides
 * @param presetName    the preset it came from
 * @param presetTraits  what the preset's plugin declares about it (imatrix rule, fixed recipe)
 * @param layers        one spec per linear layer, in model order (blocks, then lm_head)
 * @param blockPrefixes checkpoint prefixes of the block groups (e.g. {@code model.layers})
 */
public record SchemeSetup(QuantScheme scheme, String presetName, PresetTraits presetTraits, List<LayerSpec> layers,
                          List<String> blockPrefixes) {

    static SchemeSetup resolve(PluginRegistry registry, QuantizeRequest r, CausalLM lm, ModelConfig config,
                               ProgressListener progress) {
        PresetCatalog presets = PresetCatalog.of(registry.all(SchemePreset.class));
        // A format a preset declares as its own selects that preset; the format wins over --scheme, as in AutoRound.
        String presetName = r.scheme();
        for (String f : r.formats()) {
            Optional<String> own = presets.presetForFormat(f);
            if (own.isPresent()) {
                presetName = own.get();
            }
        }
        ResolvedScheme base = SchemeResolver.resolve(presetName,
                new SchemeOverrides(r.bits(), r.groupSize(), r.sym(), r.dataType(), r.scaleDtype(), r.actBits(),
                        r.actGroupSize(), r.actSym(), r.actDataType(), r.actDynamic()), presets);
        base.warnings().forEach(progress::message);
        if (base.scheme().activations().quantized()) {
            progress.message("activations: " + base.scheme().activations().bits() + "-bit " + base.scheme().actDataType()
                    + " is recorded for the exported configs; tuning does not simulate activation quantization yet"
                    + " (docs/algorithms.md)");
        }
        LayerConfigResolver.Resolution res = LayerConfigResolver.resolve(lm, base, r.layerConfig(), r.ignoreLayers(),
                r.quantLmHead(), presets.schemes(), r.toQuantBlockNames());
        res.warnings().forEach(progress::message);
        // The group prefix stays model.layers under --to_quant_block_names: the unselected blocks' layers reach
        // the exporters as full-precision specs (extra_config bits 16), which every loader reads (docs/algorithms.md).
        String prefix = lm.blockName(0).replaceAll("\\.\\d+$", "");
        return new SchemeSetup(base.scheme(), base.presetName(), base.traits(), res.layers(), List.of(prefix));
    }

    /** The --print_config table. */
    String table() {
        return ConfigTable.render(layers);
    }
}
