package dev.jround.kernel.model;

import ai.djl.ndarray.types.DataType;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.QuantAlgorithm;

import java.util.stream.Collectors;

/**
 * Refuses, before any work, a run the chosen device backend declares it cannot carry
 * ({@link DeviceBackend#capabilities()}): a compute type it does not have, or tuning without autograd.
 */
public final class DeviceCheck {

    private DeviceCheck() {
    }

    /** {@code --model_dtype} must be one of the backend's compute types (emulated ones count). */
    public static void computeType(DeviceBackend device, DataType computeType) {
        DeviceCapabilities caps = device.capabilities();
        if (!caps.supports(computeType)) {
            throw new UnsupportedFeatureException("device backend " + device.descriptor().id() + " (" + device.deviceName()
                    + ") cannot compute in " + computeType,
                    "use --model_dtype " + caps.computeTypes().stream().map(DataType::toString).sorted()
                            .collect(Collectors.joining(" or ")) + ", or another --device");
        }
    }

    /**
     * A tuning role (signed-gradient or Adam block tuning) takes gradients; RTN and optimized RTN run forward passes
     * only, so they are allowed on any backend.
     */
    public static void algorithm(DeviceBackend device, QuantAlgorithm algorithm, AlgorithmRole role) {
        if (role.tuning() && !device.capabilities().supportsAutograd()) {
            throw new UnsupportedFeatureException("algorithm " + algorithm.name() + " tunes with gradients, and device backend "
                    + device.descriptor().id() + " (" + device.deviceName() + ") declares no autograd",
                    "run round-to-nearest (--iters 0), or choose a --device whose backend supports autograd ('jround plugins')");
        }
    }
}
