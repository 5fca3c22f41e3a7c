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
}
