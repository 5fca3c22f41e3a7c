package dev.jround.plugin.packed;

import dev.jround.lib.hf.PackedCheckpoint;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint seen through its Hugging Face names: {@code <m>.weight} for every packed Linear, dequantized
 * to float32 on request; every other tensor as stored (memory-mapped, no heap copy: architectures read
 * F16/BF16/F32 checkpoints anyway); the packed parts (qweight, qzeros, scales, g_idx) are hidden.
 */
final class DequantizedStore implements TensorStore {

    private final PackedCheckpoint ckpt;
    private final List<String> names = new ArrayList<>();
    private final Map<String, String> weightToModule = new HashMap<>();
    private final Map<String, long[]> packedShapes = new HashMap<>();

    DequantizedStore(PackedCheckpoint ckpt) {
        this.ckpt = ckpt;
        for (LayerSpec s : ckpt.linearLayers()) {
            if (s.quantized()) {
                packedShapes.put(s.name(), new long[]{s.outFeatures(), s.inFeatures()});
            }
        }
        for (String n : ckpt.tensors().names()) {
            if (ckpt.isPackedTensor(n)) {
                if (n.endsWith(".qweight")) {
                    String module = n.substring(0, n.length() - ".qweight".length());
                    names.add(module + ".weight");
                    weightToModule.put(module + ".weight", module);
                }
            } else {
                names.add(n);
            }
        }
    }

    @Override
    public Collection<String> names() {
        return Collections.unmodifiableList(names);
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        String module = weightToModule.get(name);
        if (module != null) {
            return Optional.of(new TensorInfo(name, DType.F32, packedShapes.get(module)));
        }
        if (ckpt.isPackedTensor(name)) {
            return Optional.empty();
        }
        return ckpt.tensors().info(name);
    }

    @Override
    public HostTensor get(String name) {
        String module = weightToModule.get(name);
        if (module != null) {
            long[] shape = packedShapes.get(module);
            return HostTensor.ofFloats(ckpt.unpack(module).dequantize(), shape);
        }
        if (ckpt.isPackedTensor(name)) {
            throw new IllegalArgumentException("tensor " + name + " is part of a packed layer; ask for " +
                    name.substring(0, name.lastIndexOf('.')) + ".weight");
        }
        return ckpt.tensors().get(name);
    }

    @Override
    public void close() {
        ckpt.close();
    }
}
