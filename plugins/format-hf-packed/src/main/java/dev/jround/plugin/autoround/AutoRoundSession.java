package dev.jround.plugin.autoround;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.export.ExportContext;
import dev.jround.lib.hf.PackedLayout;
import dev.jround.lib.hf.PackedLayoutSession;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

/** One auto_round export: packs each layer in the chosen layout and writes the auto-round quantization_config. */
final class AutoRoundSession extends PackedLayoutSession {

    private final QuantScheme defaults;
    private final PackedLayout layout;
    private final String packingFormat;

    AutoRoundSession(ExportContext ctx) {
        super(ctx);
        this.defaults = defaultScheme();
        String format = ctx.format() == null ? AutoRoundExporter.AUTO_ROUND : ctx.format();
        switch (format) {
            case AutoRoundExporter.AUTO_GPTQ -> {
                layout = PackedLayout.GPTQ_V1;
                packingFormat = format;
            }
            case AutoRoundExporter.GPTQMODEL -> {
                layout = PackedLayout.GPTQ_V2;
                packingFormat = format;
            }
            case AutoRoundExporter.AUTO_AWQ -> {
                layout = PackedLayout.AWQ;
                packingFormat = format;
            }
            case AutoRoundExporter.AUTO_ROUND -> {
                boolean allFour = quantizedSpecs().stream().allMatch(s -> s.scheme().bits() == 4);
                if (defaults.sym()) {
                    layout = PackedLayout.GPTQ_V1;
                    packingFormat = AutoRoundExporter.AUTO_GPTQ;
                } else if (defaults.bits() == 4 && allFour) {
                    layout = PackedLayout.AWQ;
                    packingFormat = AutoRoundExporter.AUTO_AWQ;
                } else {
                    layout = PackedLayout.GPTQ_V2;
                    packingFormat = AutoRoundExporter.AUTO_ROUND;
                }
            }
            default -> throw new InvalidInputException("the auto_round exporter does not write '" + format + "'",
                    "formats: auto_round, auto_round:auto_gptq, auto_round:gptqmodel, auto_round:auto_awq");
        }
        packWith(layout, layout == PackedLayout.GPTQ_V2 && packingFormat.equals(AutoRoundExporter.GPTQMODEL), packingFormat);
    }

    /** The packing actually used (the resolved sub-format). */
    String packingFormat() {
        return packingFormat;
    }

    @Override
    protected void editConfig(ObjectNode config) {
        if (layout == PackedLayout.AWQ) {
            forceDtype(config, "float16"); // the AWQ kernels are fp16-only, as the reference notes
        }
    }

    @Override
    protected ObjectNode quantizationConfig() {
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        putSchemeAndTuning(qc, defaults);
        qc.put("autoround_version", producerVersion());
        qc.put("block_name_to_quantize", blockNames());
        qc.put("quant_method", "auto-round");
        qc.put("packing_format", packingFormat);
        ObjectNode extra = qc.objectNode();
        for (LayerSpec s : specs.values()) {
            QuantScheme q = s.scheme();
            if (s.blockIndex() < 0) {
                if (s.quantized()) {
                    ObjectNode e = extra.putObject(s.name());
                    e.put("bits", q.bits());
                    e.put("group_size", configGroupSize(q));
                    e.put("sym", q.sym());
                    e.put("data_type", q.dataType());
                    e.put("act_bits", 16);
                    e.put("act_group_size", configGroupSize(q));
                    e.put("act_sym", q.sym());
                    e.put("act_data_type", "float");
                    e.put("act_dynamic", true);
                    e.putNull("super_bits");
                    e.putNull("super_group_size");
                }
                continue;
            }
            if (!s.quantized()) {
                ObjectNode e = extra.putObject(s.name());
                e.put("bits", 16);
                e.put("data_type", "fp");
                continue;
            }
            ObjectNode diff = qc.objectNode();
            if (q.bits() != defaults.bits()) {
                diff.put("bits", q.bits());
            }
            if (configGroupSize(q) != configGroupSize(defaults)) {
                diff.put("group_size", configGroupSize(q));
            }
            if (q.sym() != defaults.sym()) {
                diff.put("sym", q.sym());
            }
            if (!q.dataType().equals(defaults.dataType())) {
                diff.put("data_type", q.dataType());
            }
            if (!diff.isEmpty()) {
                extra.set(s.name(), diff);
            }
        }
        if (!extra.isEmpty()) {
            qc.set("extra_config", extra);
        }
        return qc;
    }
}
