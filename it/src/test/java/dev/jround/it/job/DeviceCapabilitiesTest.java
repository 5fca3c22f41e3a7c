package dev.jround.it.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jround.lib.model.testing.TestBackends;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.JroundPlugin;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.device.DeviceCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel refuses, before any output, a run the device backend declares it cannot carry. */
class DeviceCapabilitiesTest {

    @TempDir
    Path tmp;

    /** The installed PyTorch CPU backend, declaring only {@code caps}. */
    static PluginRegistry withBackend(DeviceCapabilities caps) {
        ServiceLoaderRegistry installed = new ServiceLoaderRegistry();
        DeviceBackend real = installed.all(DeviceBackend.class).get(0);
        DeviceBackend limited = TestBackends.cpu("limited", "forward passes only", 1, caps, real::newManager);
        return new PluginRegistry() {
            @Override
            @SuppressWarnings("unchecked")
            public <T extends JroundPlugin> List<T> all(Class<T> type) {
                return type == DeviceBackend.class ? List.of((T) limited) : installed.all(type);
            }

            @Override
            public List<Entry> entries() {
                return installed.entries();
            }
        };
    }

    static QuantizeRequest.Builder request(Path model, Path out) {
        return QuantizeRequest.builder().model(model.toString()).groupSize(32).nsamples(2).seqlen(8)
                .formats(List.of("auto_round")).outputDir(out.toString());
    }

    static boolean empty(Path out) throws Exception {
        if (!Files.exists(out)) {
            return true;
        }
        try (var s = Files.list(out)) {
            return s.findAny().isEmpty();
        }
    }

    @Test
    void signRoundIsRefusedWithoutAutogradAndRtnRuns() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        PluginRegistry reg = withBackend(DeviceCapabilities.conservative());
        Path out = tmp.resolve("out");
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> new QuantizationJob(reg, null).run(request(model, out).iters(2).build()));
        assertTrue(e.getMessage().contains("declares no autograd"), e.getMessage());
        assertTrue(empty(out), "nothing written");

        var result = new QuantizationJob(reg, null).run(request(model, out).iters(0).disableOptRtn(true).build());
        assertTrue(Files.isRegularFile(result.outputs().get(0).resolve("config.json")));
    }

    @Test
    void aComputeTypeTheBackendLacksIsRefused() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        PluginRegistry reg = withBackend(DeviceCapabilities.builder().autograd(true).build());
        Path out = tmp.resolve("out");
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> new QuantizationJob(reg, null).run(request(model, out).iters(0).disableOptRtn(true)
                        .modelDtype("bfloat16").build()));
        assertTrue(e.getMessage().contains("cannot compute in " + DataType.BFLOAT16), e.getMessage());
        assertTrue(empty(out), "nothing written");
    }
}
