package dev.jround.plugin.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.jround.spi.PluginKind;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ServiceLoader;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PyTorchCpuBackendTest {

    @Test
    void serviceLoaderFindsTheBackend() {
        DeviceBackend backend = ServiceLoader.load(DeviceBackend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b.descriptor().id().equals("pytorch-cpu"))
                .findFirst().orElseThrow();
        assertEquals(PluginKind.DEVICE, backend.descriptor().kind());
        assertEquals("cpu", backend.deviceName());
        assertTrue(backend.isAvailable(), "libtorch from pytorch-native-cpu must load offline");
    }

    @Test
    void declaresAutogradFloat32AndEmulatedBfloat16() {
        DeviceCapabilities caps = new PyTorchCpuBackend().capabilities();
        assertTrue(caps.supportsAutograd());
        assertEquals(Set.of(DataType.FLOAT32, DataType.BFLOAT16), caps.computeTypes());
        assertEquals(Set.of(DataType.BFLOAT16), caps.emulatedTypes());
        assertEquals(1, caps.deviceCount());
        assertEquals("autograd, bfloat16 (emulated) float32, 1 device", caps.summary());
        // the autograd claim holds: d(sum(x*x))/dx = 2x
        try (NDManager manager = new PyTorchCpuBackend().newManager()) {
            NDArray x = manager.create(new float[]{1, 2, 3});
            x.setRequiresGradient(true);
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                gc.backward(x.mul(x).sum());
            }
            assertArrayEquals(new float[]{2, 4, 6}, x.getGradient().toFloatArray());
        }
    }

    @Test
    void matMulRunsOnLibtorch() {
        try (NDManager manager = new PyTorchCpuBackend().newManager()) {
            NDArray a = manager.create(new float[]{1, 2, 3, 4, 5, 6}, new ai.djl.ndarray.types.Shape(2, 3));
            NDArray b = manager.create(new float[]{7, 8, 9, 10, 11, 12}, new ai.djl.ndarray.types.Shape(3, 2));
            assertEquals("PyTorch", manager.getEngine().getEngineName());
            assertArrayEquals(new float[]{58, 64, 139, 154}, a.matMul(b).toFloatArray());
        }
    }

    @Test
    void worksWhenTheContextClassLoaderSeesNoDjl() throws Exception {
        // An OSGi bundle thread's context loader typically sees neither DJL's engines nor its natives.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try (URLClassLoader blind = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
            thread.setContextClassLoader(blind);
            try (NDManager manager = new PyTorchCpuBackend().newManager()) {
                assertEquals(6f, manager.create(new float[]{1, 2, 3}).sum().getFloat());
            }
            assertTrue(thread.getContextClassLoader() == blind, "the caller's context loader is restored");
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}
