package dev.jround.kernel.model;

import ai.djl.ndarray.types.DataType;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.QuantAlgorithm;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceCheckTest {

    final QuantAlgorithm signRound = ModelLoaderTest.stub(QuantAlgorithm.class, Map.of("name", "signround"));
    final QuantAlgorithm rtn = ModelLoaderTest.stub(QuantAlgorithm.class, Map.of("name", "rtn"));

    @Test
    void tuningNeedsAutogradRtnDoesNot() {
        DeviceBackend noGrad = ModelLoaderTest.device("cpu", 1, true, DeviceCapabilities.conservative());
        var e = assertThrows(UnsupportedFeatureException.class,
                () -> DeviceCheck.algorithm(noGrad, signRound, AlgorithmRole.TUNING));
        assertTrue(e.getMessage().contains("signround") && e.getMessage().contains("no autograd"), e.getMessage());
        assertThrows(UnsupportedFeatureException.class, () -> DeviceCheck.algorithm(noGrad, signRound, AlgorithmRole.ADAM_TUNING));
        assertDoesNotThrow(() -> DeviceCheck.algorithm(noGrad, rtn, AlgorithmRole.RTN));
        assertDoesNotThrow(() -> DeviceCheck.algorithm(noGrad, rtn, AlgorithmRole.OPTIMIZED_RTN));
        assertDoesNotThrow(() -> DeviceCheck.algorithm(ModelLoaderTest.device("cpu", 1, true), signRound, AlgorithmRole.TUNING));
    }

    @Test
    void computeTypesIncludeEmulatedOnes() {
        DeviceBackend f32 = ModelLoaderTest.device("cpu", 1, true, DeviceCapabilities.conservative());
        assertDoesNotThrow(() -> DeviceCheck.computeType(f32, DataType.FLOAT32));
        var e = assertThrows(UnsupportedFeatureException.class, () -> DeviceCheck.computeType(f32, DataType.BFLOAT16));
        assertTrue(e.getMessage().contains("cannot compute in bfloat16"), e.getMessage());
        assertDoesNotThrow(() -> DeviceCheck.computeType(ModelLoaderTest.device("cpu", 1, true), DataType.BFLOAT16));
    }

    @Test
    void conservativeDefault() {
        DeviceCapabilities c = DeviceCapabilities.conservative();
        assertFalse(c.supportsAutograd());
        assertEquals(Set.of(DataType.FLOAT32), c.computeTypes());
        assertEquals(1, c.deviceCount());
        assertTrue(c.memoryBytes().isEmpty());
        assertEquals("no autograd, float32, 1 device", c.summary());
    }
}
