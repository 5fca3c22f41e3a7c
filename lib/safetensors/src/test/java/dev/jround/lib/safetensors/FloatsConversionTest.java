package dev.jround.lib.safetensors;

import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Bit-exact agreement of {@link Floats} with torch's casts (fixtures made by tools/fixtures/safetensors). */
class FloatsConversionTest {

    private interface Encoder {
        int encode(float f);
    }

    private static void assertEncodes(String what, float[] input, HostTensor expected, Encoder encoder, boolean nanPayloadMatters) {
        ByteBuffer b = expected.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int width = expected.dtype().bytes();
        int mismatches = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < input.length; i++) {
            int want = width == 2 ? b.getShort(b.position() + 2 * i) & 0xFFFF : b.get(b.position() + i) & 0xFF;
            int got = encoder.encode(input[i]) & (width == 2 ? 0xFFFF : 0xFF);
            if (Float.isNaN(input[i]) && !nanPayloadMatters) {
                // torch's vectorised bf16 cast writes 0xFFFF for every NaN, its scalar cast 0x7FC0: only NaN-ness is defined
                float decoded = Floats.bf16ToF32((short) got);
                if (!Float.isNaN(decoded)) {
                    fail(what + ": NaN input encoded to a non-NaN");
                }
                continue;
            }
            if (want != got) {
                if (mismatches++ < 5) {
                    first.append(String.format(" [%d] %s (0x%08x) want 0x%x got 0x%x;", i, input[i],
                            Float.floatToRawIntBits(input[i]), want, got));
                }
            }
        }
        assertEquals(0, mismatches, what + " mismatches:" + first);
    }

    @Test
    void encodersMatchTorch() {
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsPythonCompatTest.resource("conversions-encode.safetensors"))) {
            float[] input = f.floats("input");
            assertTrue(input.length > 5000);
            assertEncodes("fp16", input, f.get("f16"), Floats::f32ToF16, true);
            assertEncodes("bf16", input, f.get("bf16"), Floats::f32ToBf16, false);
            assertEncodes("e4m3 (clamped)", input, f.get("e4m3"), Floats::f32ToE4m3, true);
            assertEncodes("e5m2", input, f.get("e5m2"), Floats::f32ToE5m2, true);
        }
    }

    @Test
    void decodersMatchTorchForEveryCode() {
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsPythonCompatTest.resource("conversions-decode.safetensors"))) {
            float[] f16 = f.floats("f16");
            assertEquals(65536, f16.length);
            for (int code = 0; code < 65536; code++) {
                assertSameFloat(f16[code], Floats.f16ToF32((short) code), "fp16 code " + code);
            }
            float[] e4m3 = f.floats("e4m3");
            float[] e5m2 = f.floats("e5m2");
            for (int code = 0; code < 256; code++) {
                assertSameFloat(e4m3[code], Floats.e4m3ToF32((byte) code), "e4m3 code " + code);
                assertSameFloat(e5m2[code], Floats.e5m2ToF32((byte) code), "e5m2 code " + code);
            }
        }
    }

    private static void assertSameFloat(float want, float got, String what) {
        if (Float.isNaN(want)) {
            assertTrue(Float.isNaN(got), what + " should be NaN, got " + got);
        } else {
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), what + ": want " + want + " got " + got);
        }
    }

    @Test
    void everyFiniteNarrowCodeSurvivesARoundTrip() {
        for (int code = 0; code < 65536; code++) {
            float f16 = Floats.f16ToF32((short) code);
            if (!Float.isNaN(f16)) {
                assertEquals(code, Floats.f32ToF16(f16) & 0xFFFF, "fp16 code " + code);
            }
            float bf16 = Floats.bf16ToF32((short) code);
            if (!Float.isNaN(bf16)) {
                assertEquals(code, Floats.f32ToBf16(bf16) & 0xFFFF, "bf16 code " + code);
            }
        }
        for (int code = 0; code < 256; code++) {
            float e4 = Floats.e4m3ToF32((byte) code);
            if (!Float.isNaN(e4)) {
                assertEquals(code, Floats.f32ToE4m3(e4) & 0xFF, "e4m3 code " + code);
            }
            float e5 = Floats.e5m2ToF32((byte) code);
            if (!Float.isNaN(e5)) {
                assertEquals(code, Floats.f32ToE5m2(e5) & 0xFF, "e5m2 code " + code);
            }
        }
    }

    @Test
    void specExamplesOfE4m3() {
        assertEquals(0x38, Floats.f32ToE4m3(1f) & 0xFF);
        assertEquals(0x40, Floats.f32ToE4m3(2f) & 0xFF);
        assertEquals(0xC0, Floats.f32ToE4m3(-2f) & 0xFF);
        assertEquals(0x7E, Floats.f32ToE4m3(448f) & 0xFF);
        assertEquals(0x7E, Floats.f32ToE4m3(Float.POSITIVE_INFINITY) & 0xFF);
        assertEquals(0x04, Floats.f32ToE4m3(0x1p-7f) & 0xFF);
        assertEquals(0x01, Floats.f32ToE4m3(0x1p-9f) & 0xFF);
    }
}
