package dev.jround.spi.tensor;

import java.util.Arrays;

/** Name, element type and shape of a stored tensor. */
public record TensorInfo(String name, DType dtype, long[] shape) {

    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    public long byteSize() {
        return numel() * dtype.bytes();
    }

    public int[] intShape() {
        int[] r = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            r[i] = Math.toIntExact(shape[i]);
        }
        return r;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
