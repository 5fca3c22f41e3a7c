package dev.jround.lib.model.testing;

import ai.djl.ndarray.NDManager;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;

import java.util.function.Supplier;

/** Device backends for tests: a cpu backend with a chosen id, rank and capabilities over a given manager source. */
public final class TestBackends {

    private TestBackends() {
    }

    public static DeviceBackend cpu(String id, String description, int rank, DeviceCapabilities capabilities,
                                    Supplier<NDManager> managers) {
        return new DeviceBackend() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.DEVICE, id, "1.0.0", description);
            }

            @Override
            public String deviceName() {
                return "cpu";
            }

            @Override
            public boolean isAvailable() {
                return true;
            }

            @Override
            public int rank() {
                return rank;
            }

            @Override
            public NDManager newManager() {
                return managers.get();
            }

            @Override
            public DeviceCapabilities capabilities() {
                return capabilities;
            }
        };
    }
}
