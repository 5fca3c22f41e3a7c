package dev.jround.spi.device;

import ai.djl.ndarray.types.DataType;

import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What a {@link DeviceBackend} can do, declared as DJL's {@code Engine} declares its own facts, so that the kernel
 * refuses a run the backend cannot carry before any work instead of failing half way (docs/plugins.md, "Device
 * backends"). Built with {@link #builder()}; new facts are added as builder methods with conservative defaults.
 */
public final class DeviceCapabilities {

    private final boolean autograd;
    private final Set<DataType> computeTypes;
    private final Set<DataType> emulatedTypes;
    private final int deviceCount;
    private final long memoryBytes;

    private DeviceCapabilities(Builder b) {
        this.autograd = b.autograd;
        this.computeTypes = Set.copyOf(b.computeTypes);
        this.emulatedTypes = Set.copyOf(b.emulatedTypes);
        this.deviceCount = b.deviceCount;
        this.memoryBytes = b.memoryBytes;
    }

    /** What a backend that declares nothing is assumed to have: float32 forward passes on one device, no gradients. */
    public static DeviceCapabilities conservative() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether gradients flow ({@code NDArray.setRequiresGradient}, {@code GradientCollector}): tuning needs them. */
    public boolean supportsAutograd() {
        return autograd;
    }

    /** The compute types a model can be bound with ({@code --model_dtype}), emulated ones included. */
    public Set<DataType> computeTypes() {
        return computeTypes;
    }

    /**
     * The compute types held in a wider element type and rounded after each operation (values exact, memory that of
     * the wider type), e.g. bfloat16 as float32 on DJL's PyTorch JNI (docs/models.md, "bfloat16").
     */
    public Set<DataType> emulatedTypes() {
        return emulatedTypes;
    }

    public boolean supports(DataType computeType) {
        return computeTypes.contains(computeType);
    }

    /** How many devices of this kind a job could use; a jround job runs on one. */
    public int deviceCount() {
        return deviceCount;
    }

    /** Memory of one device in bytes, when the backend knows it. */
    public OptionalLong memoryBytes() {
        return memoryBytes < 0 ? OptionalLong.empty() : OptionalLong.of(memoryBytes);
    }

    /** One line for {@code jround plugins}: {@code autograd, float32 bfloat16 (emulated), 1 device}. */
    public String summary() {
        StringBuilder s = new StringBuilder(autograd ? "autograd" : "no autograd");
        s.append(',');
        computeTypes.stream().sorted(Comparator.comparing(DataType::toString)).forEach(t ->
                s.append(' ').append(t).append(emulatedTypes.contains(t) ? " (emulated)" : ""));
        s.append(", ").append(deviceCount).append(deviceCount == 1 ? " device" : " devices");
        memoryBytes().ifPresent(m -> s.append(", ").append(m >> 20).append(" MiB"));
        return s.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceCapabilities c && autograd == c.autograd && computeTypes.equals(c.computeTypes)
                && emulatedTypes.equals(c.emulatedTypes) && deviceCount == c.deviceCount && memoryBytes == c.memoryBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(autograd, computeTypes, emulatedTypes, deviceCount, memoryBytes);
    }

    @Override
    public String toString() {
        return "DeviceCapabilities[" + summary() + "]";
    }

    public static final class Builder {
        private boolean autograd;
        private final Set<DataType> computeTypes = new LinkedHashSet<>(EnumSet.of(DataType.FLOAT32));
        private final Set<DataType> emulatedTypes = new LinkedHashSet<>();
        private int deviceCount = 1;
        private long memoryBytes = -1;

        private Builder() {
        }

        public Builder autograd(boolean supported) {
            this.autograd = supported;
            return this;
        }

        /** Replaces the compute types (float32 by default). */
        public Builder computeTypes(Set<DataType> types) {
            if (types.isEmpty()) {
                throw new IllegalArgumentException("a backend computes in at least one type");
            }
            computeTypes.clear();
            computeTypes.addAll(types);
            return this;
        }

        /** Adds a compute type that is emulated in a wider one. */
        public Builder emulated(DataType type) {
            computeTypes.add(type);
            emulatedTypes.add(type);
            return this;
        }

        public Builder deviceCount(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("deviceCount must be at least 1: " + count);
            }
            this.deviceCount = count;
            return this;
        }

        public Builder memoryBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("memoryBytes must be positive: " + bytes);
            }
            this.memoryBytes = bytes;
            return this;
        }

        public DeviceCapabilities build() {
            return new DeviceCapabilities(this);
        }
    }
}
