package dev.jround.plugin.awq;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.InvalidInputException;
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
import java.util.Set;
import java.util.TreeSet;

/** One auto_awq export. */
final class AwqSession extends PackedLayoutSession {

    private final QuantScheme defaults;

    AwqSession(ExportContext ctx) {
        super(ctx);
        packWith(PackedLayout.AWQ, false, "auto_awq");
        this.defaults = defaultScheme();
        Set<Integer> groups = new TreeSet<>();
        for (LayerSpec s : quantizedSpecs()) {
            groups.add(configGroupSize(s.scheme()));
        }
        if (groups.size() > 1) {
            throw new InvalidInputException("auto_awq has one group_size for the whole model, the plan uses " + groups,
                    "use one group size for every layer, or --format auto_round (per-layer group sizes via extra_config)");
        }
    }

    @Override
    protected void editConfig(ObjectNode config) {
        forceDtype(config, "float16"); // AWQ kernels are fp16-only
    }

    /** Float layers as substrings the loaders skip: outside-block ones (lm_head) first, then in-block ones. */
    private List<String> modulesToNotConvert() {
        List<String> outside = new ArrayList<>();
        List<String> inside = new ArrayList<>();
        for (LayerSpec s : specs.values()) {
            if (!s.quantized()) {
                (s.blockIndex() < 0 ? outside : inside).add(s.name());
            }
        }
        if (outside.stream().noneMatch(n -> n.endsWith("lm_head"))) {
            // transformers' AWQ integration would otherwise try to swap a tied head for a packed layer
            outside.add(0, "lm_head");
        }
        outside.addAll(inside);
        return outside;
    }

    @Override
    protected ObjectNode quantizationConfig() {
        ObjectNode qc = JsonNodeFactory.instance.objectNode();
        putSchemeAndTuning(qc, defaults);
        qc.put("to_quant_block_names", blockNames());
        qc.put("autoround_version", producerVersion());
        qc.put("provider", "auto-round");
        qc.put("quant_method", "awq");
        // always true: the qzeros tensor is present and exact, and vLLM's AWQ-Marlin path requires it
        qc.put("zero_point", true);
        qc.put("version", "gemm");
        ArrayNode skip = qc.putArray("modules_to_not_convert");
        modulesToNotConvert().forEach(skip::add);
        return qc;
    }

    @Override
    protected void writeExtraFiles(Path dir) throws IOException {
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("zero_point", true);
        q.put("q_group_size", configGroupSize(defaults));
        q.put("w_bit", 4);
        q.put("version", "GEMM");
        ArrayNode skip = q.putArray("modules_to_not_convert");
        modulesToNotConvert().forEach(skip::add);
        writeText(dir.resolve("quant_config.json"), PyJson.write(q, false));
    }
}
