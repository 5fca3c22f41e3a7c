package dev.jround.plugin.backend.pytorch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtEngineProvider;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * DJL's PyTorch engine on the CPU, with native libraries taken from the Maven Central jars (no download).
 *
 * <p>This class holds no native state of its own: libtorch and the JNI glue are loaded by DJL's
 * {@code LibUtils}, i.e. by the class loader that holds the DJL platform jars. On the flat class path
 * that is the application loader; in the OSGi host the same jars sit on the framework's class path and
 * are exported by the system bundle, so this plugin bundle can be updated or removed while the natives
 * stay loaded exactly once.
 */
public final class PyTorchCpuBackend implements DeviceBackend {

    static final String ENGINE = "PyTorch";

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
        return inPlatformContext(() -> engine().newBaseManager(Device.cpu()));
    }

    /**
     * Gradients through libtorch's autograd; float32, and bfloat16 only emulated: DJL 0.35.1's PyTorch JNI has no
     * bfloat16 element type, so bf16 runs as float32 rounded after each operation (docs/models.md, "bfloat16").
     * One device: the host CPU.
     */
    @Override
    public DeviceCapabilities capabilities() {
        return CAPABILITIES;
    }

    private static final DeviceCapabilities CAPABILITIES = DeviceCapabilities.builder()
            .autograd(true)
            .computeTypes(Set.of(DataType.FLOAT32))
            .emulated(DataType.BFLOAT16)
            .deviceCount(1)
            .build();

    /** The PyTorch engine, registered explicitly when DJL's own ServiceLoader scan could not see it. */
    static Engine engine() {
        return inPlatformContext(() -> {
            if (!Engine.hasEngine(ENGINE)) {
                Engine.registerEngine(new PtEngineProvider());
            }
            return Engine.getEngine(ENGINE);
        });
    }

    /**
     * Runs {@code action} with the thread context class loader set to the loader of the DJL platform jars.
     * DJL finds its engines ({@code ServiceLoader}) and the {@code native/lib/pytorch.properties} marker of
     * the native jar through the context loader; inside OSGi the caller's context loader may be a bundle
     * loader (or null) that sees neither.
     */
    static <T> T inPlatformContext(Supplier<T> action) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(PtEngineProvider.class.getClassLoader());
        try {
            return action.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}
