package dev.jround.plugin.backend.pytorch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.device.DeviceBackend;

import java.util.List;
import java.util.Map;

/** DJL's PyTorch engine on the CPU, with native libraries taken from the Maven Central jars (no download). */
public final class PyTorchCpuBackend implements DeviceBackend {

    static {
        // Never let DJL reach the network for natives or usage tracking.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("OPT_OUT_TRACKING", "true");
    }

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.DEVICE, "pytorch-cpu", PluginDescriptor.versionOf(getClass(), "1.0.0"),
                "DJL PyTorch engine on the CPU (libtorch from Maven Central, offline)",
                Map.of("devices", List.of("cpu")));
    }

    @Override
    public String deviceName() {
        return "cpu";
    }

    @Override
    public boolean isAvailable() {
        try {
            return engine() != null;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public NDManager newManager() {
        return engine().newBaseManager(Device.cpu());
    }

    private static Engine engine() {
        return Engine.getEngine("PyTorch");
    }
}
