package dev.jround.plugin.dtype.integer;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.quant.SchemePreset;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IntDataTypeContractTest {

    private final IntDataType type = new IntDataType();

    @Test
    void registeredAsServices() {
        assertTrue(ServiceLoader.load(QuantDataType.class).stream().anyMatch(p -> p.type() == IntDataType.class));
        assertTrue(ServiceLoader.load(SchemePreset.class).stream().anyMatch(p -> p.type() == IntSchemePresets.class));
    }

    @Test
    void supportsIntOnly() {
        assertTrue(type.supports(QuantScheme.intWeightOnly(4, 128, true)));
        assertTrue(type.supports(QuantScheme.intWeightOnly(2, -1, false)));
        assertFalse(type.supports(QuantScheme.intWeightOnly(4, 128, true).withDataType("mx_fp")));
        assertFalse(type.supports(QuantScheme.intWeightOnly(16, 128, true)));
    }

    @Test
    void badBitsNameTheFlag() {
        LayerSpec spec = new LayerSpec("l", 4, 2, QuantScheme.intWeightOnly(9, 4, true), 0, false, "");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> type.quantize(spec, new float[8], null, null, null, null, null, false));
        assertTrue(e.getMessage().contains("--bits"));
    }

    @Test
    void perTensorRepeatsItsScaleOnEveryRow() {
        LayerSpec spec = new LayerSpec("l", 4, 3, QuantScheme.intWeightOnly(4, 0, true), 0, false, "");
        float[] w = {0.1f, -0.2f, 0.3f, 0.05f, 0.7f, -0.4f, 0f, 0.2f, -0.1f, 0.15f, 0.25f, -0.35f};
        QuantizedLayer q = type.quantize(spec, w, null, null, null, null, null, false);
        assertEquals(4, q.grid().groupSize());
        assertEquals(3, q.grid().scales().length);
        assertEquals(q.grid().scales()[0], q.grid().scales()[2], 0f);
        // 0.7 dominates: full-range symmetric puts it exactly on level -8 with a negative scale
        assertTrue(q.grid().scales()[0] < 0);
        assertEquals(0, q.grid().codes()[4]);
        assertEquals(0.7f, q.dequantized()[4], 1e-3f);
    }

    @Test
    void biasIsCopiedThrough() {
        LayerSpec spec = new LayerSpec("l", 2, 1, QuantScheme.intWeightOnly(8, -1, false), 0, false, "");
        QuantizedLayer q = type.quantize(spec, new float[] {0.5f, -0.5f}, new float[] {1.5f}, null, null, null, null, false);
        assertEquals(1.5f, q.bias()[0]);
        assertEquals(0.5f, q.dequantized()[0], 1f / 255);
    }
}
