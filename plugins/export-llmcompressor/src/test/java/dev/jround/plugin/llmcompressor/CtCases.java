package dev.jround.plugin.llmcompressor;

import dev.jround.lib.hf.testing.ExportFixture;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.FloatElements.ElementFormat;
import dev.jround.spi.quant.FloatElements.ScaleFormat;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizationArgs;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.Floats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/** The seeded tiny models the llm_compressor tests export, one per scheme mix (shared with the compressed-tensors cross-check). */
final class CtCases {

    static final List<String> NAMES = List.of("w4g32_sym", "w4g32_asym", "w3g32_asym", "w2_channel_sym", "w8g64_asym",
            "mixed", "int8_w8a8", "mixed_formats", "mxfp4", "mxfp8a16", "nvfp4a16", "fp8_block_dynamic", "fpw8a16_tensor",
            "fp8_channel_dynamic");

    static final QuantScheme MXFP4 = QuantScheme.builder().bits(4).groupSize(32).dataType("mx_fp").actBits(4).actGroupSize(32)
            .actSym(true).actDataType("mx_fp").actDynamic(true).build();
    static final QuantScheme MXFP8A16 = QuantScheme.builder().bits(8).groupSize(32).dataType("mx_fp").build();
    static final QuantScheme NVFP4A16 = QuantScheme.builder().bits(4).groupSize(16).dataType("nv_fp").build();
    static final QuantScheme FP8_BLOCK = QuantScheme.builder().bits(8).block(32, 32).dataType("fp").actBits(8).actGroupSize(32)
            .actDataType("fp").actDynamic(true).build();
    static final QuantScheme FPW8A16 = QuantScheme.builder().bits(8).groupSize(0).dataType("fp").build();
    static final QuantScheme FP8_DYNAMIC = QuantScheme.builder().bits(8).groupSize(-1).dataType("fp").actBits(8).actGroupSize(-1)
            .actDataType("fp").actDynamic(true).build();

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
            case "mxfp4" -> floatHeadAnd(MXFP4);
            case "mxfp8a16" -> floatHeadAnd(MXFP8A16);
            case "nvfp4a16" -> floatHeadAnd(NVFP4A16);
            case "fp8_block_dynamic" -> floatHeadAnd(FP8_BLOCK);
            case "fpw8a16_tensor" -> floatHeadAnd(FPW8A16);
            case "fp8_channel_dynamic" -> floatHeadAnd(FP8_DYNAMIC);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static float recip(float x) {
        return x == 0f ? 0f : 1f / x;
    }

    private static Function<String, QuantScheme> floatHeadAnd(QuantScheme s) {
        return n -> n.equals("lm_head") || n.equals("model.layers.1.mlp.down_proj") ? QuantScheme.FULL_PRECISION : s;
    }

    static ExportFixture fixture(Path dir, String name) throws IOException {
        ExportFixture f = new ExportFixture(dir, name.equals("w4g32_sym"), schemes(name), true, name.hashCode());
        Random r = new Random(name.hashCode() * 31L);
        for (Map.Entry<String, QuantizedLayer> e : f.quantized.entrySet()) {
            QuantizedLayer l = e.getValue();
            if (!l.spec().scheme().dataType().startsWith("int")) {
                e.setValue(floatLayer(l.spec(), l.bias(), r));
            }
        }
        return f;
    }

    /**
     * Seeded random float elements for the layer's scheme: every code of the element format (E4M3 NaNs left out),
     * power-of-two MX scales, E4M3 NVFP4 scales with a non-trivial global scale, float32 FP8 scales; the dequantized
     * weight is what the payload stands for.
     */
    static QuantizedLayer floatLayer(LayerSpec spec, float[] bias, Random r) {
        QuantScheme s = spec.scheme();
        int rows = spec.outFeatures();
        int cols = spec.inFeatures();
        ElementFormat ef = s.bits() == 4 ? ElementFormat.FP4_E2M1 : ElementFormat.FP8_E4M3;
        ScaleFormat sf;
        int br;
        int bc;
        float global = 1f;
        switch (s.dataType()) {
            case "mx_fp" -> {
                sf = ScaleFormat.E8M0;
                br = 1;
                bc = 32;
            }
            case "nv_fp" -> {
                sf = ScaleFormat.FP8_E4M3;
                br = 1;
                bc = 16;
                global = 448f * 6f / (0.05f + r.nextFloat() * 0.5f);
            }
            default -> {
                sf = ScaleFormat.FP32;
                var w = s.weights();
                br = w.strategy() == QuantizationArgs.Strategy.BLOCK ? w.blockRows() : w.strategy() == QuantizationArgs.Strategy.TENSOR ? rows : 1;
                bc = w.strategy() == QuantizationArgs.Strategy.CHANNEL || w.strategy() == QuantizationArgs.Strategy.TENSOR ? cols : w.groupSize();
            }
        }
        int[] codes = new int[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            int c;
            do {
                c = r.nextInt(1 << ef.bits());
            } while (ef == ElementFormat.FP8_E4M3 && (c & 0x7F) == 0x7F);
            codes[i] = c;
        }
        byte[] elements = new byte[(codes.length * ef.bits() + 7) / 8];
        for (int i = 0; i < codes.length; i++) {
            if (ef.bits() == 8) {
                elements[i] = (byte) codes[i];
            } else {
                elements[i / 2] |= (byte) (codes[i] << (4 * (i % 2)));
            }
        }
        int scaleCount = ((rows + br - 1) / br) * ((cols + bc - 1) / bc);
        float[] scales = new float[scaleCount];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = switch (sf) {
                case E8M0 -> Math.scalb(1f, -14 + r.nextInt(12));
                case FP8_E4M3 -> Floats.roundToE4m3(0.02f + r.nextFloat() * 440f);
                case FP32 -> (0.0005f + r.nextFloat() * 0.002f);
            };
        }
        FloatElements fe = new FloatElements(ef, rows, cols, elements, sf, br, bc, scales, global);
        float[] dq = new float[rows * cols];
        for (int row = 0; row < rows; row++) {
            for (int col = 0; col < cols; col++) {
                // NVFP4 fake weights in the reference's reciprocal form, as the nv_fp data type computes them
                dq[row * cols + col] = global != 1f
                        ? ef.decode(fe.element(row * cols + col)) * recip(recip(fe.scaleOf(row, col) * recip(global)))
                        : fe.value(row, col);
            }
        }
        return new QuantizedLayer(spec, fe, dq, bias, null);
    }

    static Path export(ExportFixture f, Path out) {
        return f.export(new LlmCompressorExporter(), out, LlmCompressorExporter.FORMAT, Map.of(), Long.MAX_VALUE);
    }
}
