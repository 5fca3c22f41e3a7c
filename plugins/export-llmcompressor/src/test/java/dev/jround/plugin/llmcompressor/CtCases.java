package dev.jround.plugin.llmcompressor;

import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.quant.QuantScheme;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The seeded tiny models the llm_compressor tests export, one per scheme mix (shared with the compressed-tensors cross-check). */
final class CtCases {

    static final List<String> NAMES = List.of("w4g32_sym", "w4g32_asym", "w3g32_asym", "w2_channel_sym", "w8g64_asym",
            "mixed", "int8_w8a8", "mixed_formats");

    static final QuantScheme W8A8 = QuantScheme.builder().bits(8).groupSize(-1).sym(true).actBits(8).actGroupSize(-1).actSym(true).actDataType("int").actDynamic(true).build();

    private CtCases() {
    }

    static Function<String, QuantScheme> schemes(String name) {
        return switch (name) {
            case "w4g32_sym" -> floatHeadAnd(QuantScheme.intWeightOnly(4, 32, true));
            case "w4g32_asym" -> floatHeadAnd(QuantScheme.intWeightOnly(4, 32, false));
            case "w3g32_asym" -> floatHeadAnd(QuantScheme.intWeightOnly(3, 32, false));
            case "w2_channel_sym" -> floatHeadAnd(QuantScheme.intWeightOnly(2, -1, true));
            case "w8g64_asym" -> n -> n.endsWith("down_proj") || n.equals("lm_head") ? QuantScheme.FULL_PRECISION
                    : QuantScheme.intWeightOnly(8, 64, false);
            case "mixed" -> n -> switch (n) {
                case "lm_head" -> QuantScheme.intWeightOnly(4, 64, true);
                case "model.layers.0.self_attn.q_proj" -> QuantScheme.intWeightOnly(8, 32, true);
                case "model.layers.1.self_attn.k_proj" -> QuantScheme.intWeightOnly(2, -1, false);
                case "model.layers.1.mlp.down_proj" -> QuantScheme.FULL_PRECISION;
                default -> QuantScheme.intWeightOnly(4, 32, false);
            };
            case "int8_w8a8" -> floatHeadAnd(W8A8);
            case "mixed_formats" -> n -> n.equals("lm_head") ? QuantScheme.FULL_PRECISION
                    : n.contains("mlp") ? W8A8 : QuantScheme.intWeightOnly(4, 32, true);
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static Function<String, QuantScheme> floatHeadAnd(QuantScheme s) {
        return n -> n.equals("lm_head") || n.equals("model.layers.1.mlp.down_proj") ? QuantScheme.FULL_PRECISION : s;
    }

    static ExportFixture fixture(Path dir, String name) throws IOException {
        return new ExportFixture(dir, name.equals("w4g32_sym"), schemes(name), true, name.hashCode());
    }

    static Path export(ExportFixture f, Path out) {
        return f.export(new LlmCompressorExporter(), out, LlmCompressorExporter.FORMAT, Map.of(), Long.MAX_VALUE);
    }
}
