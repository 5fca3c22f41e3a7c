package dev.jround.plugin.dtype.mx;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.LayerSpec;

/** Input checks shared by the MX data types. */
final class FiniteCheck {

    private FiniteCheck() {
    }

    /** Refuses NaN and infinite weights before any work: their shared scale is undefined. */
    static void require(String what, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(what + " holds " + values[i] + " at element " + i,
                        "MX quantization needs finite weights; check the checkpoint for overflowed or corrupt tensors");
            }
        }
    }

    static void length(LayerSpec spec, String what, float[] a, int expected) {
        if (a != null && a.length != expected) {
            throw new IllegalArgumentException(spec.name() + ": " + what + " has " + a.length + " values, expected " + expected);
        }
    }
}
