package dev.jround.plugin.dtype.integer;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.tensor.Floats;

/** Storage dtype of quantization scales: the cast applied inside QDQ and the magnitude floor that goes with it. */
enum ScaleDtype {
    FP16, BF16, FP32;

    static ScaleDtype of(String name) {
        String n = name == null ? "fp16" : name.toLowerCase(java.util.Locale.ROOT);
        return switch (n) {
            case "fp16", "float16", "half" -> FP16;
            case "bf16", "bfloat16" -> BF16;
            case "fp32", "float32", "float" -> FP32;
            default -> throw new InvalidInputException("unknown scale_dtype '" + name + "'",
                    "valid scale_dtype values: fp16, float16, bf16, bfloat16, fp32, float32");
        };
    }

    /** Round-to-nearest-even into this dtype, returned as the exactly representable float32. */
    float round(float x) {
        return switch (this) {
            case FP16 -> Floats.roundToF16(x);
            case BF16 -> Floats.roundToBf16(x);
            case FP32 -> x;
        };
    }

    /**
     * Scale magnitude floor: 1e-8 for fp32 scales, else 1e-5; the reference clamps the scale tensor after the
     * cast, so the floor itself is the nearest value of the scale dtype.
     */
    float threshold() {
        return this == FP32 ? 1e-8f : round(1e-5f);
    }
}
