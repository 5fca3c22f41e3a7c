package dev.jround.spi.device;

import ai.djl.ndarray.NDManager;
import dev.jround.spi.JroundPlugin;

/**
 * Where tensors live and run. The PyTorch CPU backend is the default; a CUDA or vendor backend is
 * another plugin. Backends with higher {@link #rank()} win when several are available.
 */
public interface DeviceBackend extends JroundPlugin {

    /** Short name used by {@code --device}: {@code cpu}, {@code cuda}, ... */
    String deviceName();

    /** Whether this backend can run on this machine now (native libraries load, a device is present). */
    boolean isAvailable();

    int rank();

    /** A new root manager on this backend's device; the caller closes it. */
    NDManager newManager();

    /**
     * What this backend can run: the kernel refuses a tuning algorithm without autograd and a {@code --model_dtype}
     * outside {@link DeviceCapabilities#computeTypes()} before any work. The default promises only float32 forward
     * passes, so that an undeclared backend is refused rather than failing mid-run.
     */
    default DeviceCapabilities capabilities() {
        return DeviceCapabilities.conservative();
    }
}
