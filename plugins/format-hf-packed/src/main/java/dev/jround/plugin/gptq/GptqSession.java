package dev.jround.plugin.gptq;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.export.ExportContext;
import dev.jround.lib.hf.PackedLayoutSession;
import dev.jround.lib.hf.PackedLayout;
import dev.jround.lib.hf.PyJson;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** One auto_gptq export. */
final class GptqSession extends PackedLayoutSession {

    /** Block prefixes every GPTQ consumer finds by itself; others are written as block_name_to_quantize. */
    private static final List<String> KNOWN_BLOCKS = List.of("transformer.h", "model.decoder.layers", "gpt_neox.layers", "model.layers");
    private static final String SPECIAL = "()[]{}?*+-|^$\\.&~# \t\n\r\u000B\f";

    private final QuantScheme defaults;

    GptqSession(ExportContext ctx) {
        super(ctx);
        packWith(PackedLayout.GPTQ_V1, true, "auto_gptq (v1 zero points)");
        this.defaults = defaultScheme();
    }

    @Override
    protected void editConfig(ObjectNode config) {
        forceDtype(config, "float16"); // GPTQ kernels run in fp16
    }

    /** {@code .*} + the name escaped like Python's re.escape + {@code .*}, the reference's exact-name pattern. */
    static String exactNameRegex(String name) {
        StringBuilder sb = new StringBuilder(".*");
        for (char c : name.toCharArray()) {
            if (SPECIAL.indexOf(c) >= 0) {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append(".*").toString();
    }

    private boolean lmHeadQuantized() {
        return specs.values().stream().anyMatch(s -> s.blockIndex() < 0 && s.quantized());
    }

    private ObjectNode dynamic() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        for (LayerSpec s : specs.values()) {
            QuantScheme q = s.scheme();
            boolean differs = s.quantized() && (q.bits() != defaults.bits() || configGroupSize(q) != configGroupSize(defaults)
                    || q.sym() != defaults.sym());
            if (s.blockIndex() < 0 && s.quantized()) {
                differs = true; // a quantized head is only found through its own entry
            }
            if (differs) {
                ObjectNode e = d.putObject("+:" + exactNameRegex(s.name()));
                e.put("bits", q.bits());
                e.put("group_size", configGroupSize(q));
                e.put("sym", q.sym());
            } else if (!s.quantized() && s.blockIndex() >= 0) {
                d.putObject("-:" + exactNameRegex(s.name()));
            }
        }
        return d;
    }

    /** Per block group, the sorted block-relative names of the quantized layers; null when every in-block layer is quantized. */
    private ArrayNode modulesInBlockToQuantize() {
        boolean allQuantized = specs.values().stream().filter(s -> s.blockIndex() >= 0).allMatch(LayerSpec::quantized);
        if (allQuantized) {
            return null;
        }
        ArrayNode r = JsonNodeFactory.instance.arrayNode();
        List<String> prefixes = ctx.blockPrefixes() == null || ctx.blockPrefixes().isEmpty() ? List.of("model.layers") : ctx.blockPrefixes();
        for (String p : prefixes) {
            TreeSet<String> names = new TreeSet<>();
            for (LayerSpec s : specs.values()) {
                if (s.quantized() && s.blockIndex() >= 0 && s.name().startsWith(p + ".")) {
                    String rest = s.name().substring(p.length() + 1);
                    int dot = rest.indexOf('.');
                    names.add(dot < 0 ? rest : rest.substring(dot + 1));
                }
            }
            ArrayNode a = r.addArray();
            names.forEach(a::add);
        }
        return r;
    }

    @Override
    protected ObjectNode quantizationConfig() {
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        putSchemeAndTuning(qc, defaults);
        qc.put("autoround_version", producerVersion());
        ObjectNode dynamic = dynamic();
        if (!dynamic.isEmpty()) {
            qc.set("dynamic", dynamic);
        }
        qc.put("lm_head", lmHeadQuantized());
        qc.put("provider", "auto-round");
        qc.put("quant_method", "gptq");
        qc.put("desc_act", false);
        qc.put("true_sequential", false);
        qc.put("damp_percent", 0.01);
        ArrayNode inBlock = modulesInBlockToQuantize();
        if (inBlock != null) {
            qc.set("modules_in_block_to_quantize", inBlock);
        }
        qc.put("checkpoint_format", "gptq");
        qc.put("static_groups", false);
        List<String> unknown = new ArrayList<>();
        for (String p : ctx.blockPrefixes() == null ? List.<String>of() : ctx.blockPrefixes()) {
            if (!KNOWN_BLOCKS.contains(p)) {
                unknown.add(p);
            }
        }
        if (!unknown.isEmpty()) {
            qc.put("block_name_to_quantize", blockNames());
        }
        return qc;
    }

    @Override
    protected void writeExtraFiles(Path dir) throws IOException {
        // AutoGPTQ's from_quantized reads quantize_config.json only
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("bits", defaults.bits());
        q.put("group_size", configGroupSize(defaults));
        q.put("damp_percent", 0.01);
        q.put("desc_act", false);
        q.put("static_groups", false);
        q.put("sym", defaults.sym());
        q.put("true_sequential", false);
        q.put("lm_head", lmHeadQuantized());
        q.putNull("model_name_or_path");
        q.put("model_file_base_name", "model");
        q.put("quant_method", "gptq");
        q.put("checkpoint_format", "gptq");
        ObjectNode dynamic = dynamic();
        if (!dynamic.isEmpty()) {
            q.set("dynamic", dynamic);
        }
        writeText(dir.resolve("quantize_config.json"), PyJson.write(q, false));
    }
}
