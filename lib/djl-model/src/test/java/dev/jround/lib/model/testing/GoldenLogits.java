package dev.jround.lib.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsFile;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture plugins' golden-logit tests: a test's {@code /golden/<case>/} resources hold a tiny checkpoint
 * ({@code config.json}, {@code model.safetensors}) and {@code golden.safetensors}, the inputs and the logits
 * transformers computed for them.
 */
public final class GoldenLogits {

    /** The DJL default engine on the CPU, as a device backend. */
    public static final DeviceBackend CPU = TestBackends.cpu("test-cpu", "test", 0,
            dev.jround.spi.device.DeviceCapabilities.conservative(), NDManager::newBaseManager);

    private GoldenLogits() {
    }

    /** The directory of golden case {@code name} on the class path of {@code test}. */
    public static Path golden(Class<?> test, String name) {
        try {
            return Path.of(test.getResource("/golden/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tensor {@code name} of a golden file as an array of {@code m}: int64 stays int64, anything else float32. */
    public static NDArray tensor(NDManager m, SafetensorsFile f, String name) {
        HostTensor t = f.get(name);
        if (t.dtype() == DType.I64) {
            long[] r = new long[(int) t.numel()];
            t.data().asLongBuffer().get(r);
            return m.create(r, new Shape(t.shape()));
        }
        return m.create(t.toFloats(), new Shape(t.shape()));
    }

    /**
     * In float32, the logits of {@code input_ids} and of the left-padded {@code batch_ids} (real positions only) are
     * within 1e-4 of transformers'.
     */
    public static void assertFloat32LogitsMatch(String name, CausalLM model, SafetensorsFile g) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = model.logits(m, tensor(m, g, "input_ids"), BlockInputs.NONE);
            assertEquals(new Shape(g.get("logits").shape()), logits.getShape());
            float diff = logits.sub(tensor(m, g, "logits")).abs().max().getFloat();
            assertTrue(diff < 1e-4, name + " max |delta logit| " + diff);

            NDArray mask = tensor(m, g, "batch_mask");
            NDArray batch = model.logits(m, tensor(m, g, "batch_ids"), new BlockInputs(mask));
            NDArray real = mask.toType(DataType.FLOAT32, false).expandDims(2);
            float batchDiff = batch.sub(tensor(m, g, "batch_logits")).abs().mul(real).max().getFloat();
            assertTrue(batchDiff < 1e-4, name + " padded batch max |delta logit| " + batchDiff);
        }
    }
}
