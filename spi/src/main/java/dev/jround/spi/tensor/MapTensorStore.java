package dev.jround.spi.tensor;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** An in-memory {@link TensorStore}, for tests, dequantized views and overlays. */
public final class MapTensorStore implements TensorStore {

    private final Map<String, HostTensor> tensors = new LinkedHashMap<>();

    public MapTensorStore put(String name, HostTensor t) {
        tensors.put(name, t);
        return this;
    }

    @Override
    public Collection<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        HostTensor t = tensors.get(name);
        return t == null ? Optional.empty() : Optional.of(new TensorInfo(name, t.dtype(), t.shape()));
    }

    @Override
    public HostTensor get(String name) {
        HostTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named " + name);
        }
        return t;
    }
}
