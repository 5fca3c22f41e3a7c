package dev.jround.spi.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The grouping rule of AutoRound (docs/algorithms.md) for a {@code [rows, cols]} weight: per tensor
 * ({@code groupSize == 0}) one group of {@code rows*cols}; per channel ({@code -1}) or rows shorter
 * than the group one group per row; otherwise groups of {@code groupSize} along a row, the row padded
 * on the right when the group does not divide it. Group {@code g = r * groupsPerRow + j}.
 *
 * @param rows      output features
 * @param cols      input features
 * @param groupSize the scheme's group size (-1, 0 or positive)
 */
public record GroupLayout(int rows, int cols, int groupSize) {

    public static GroupLayout of(LayerSpec spec) {
        return new GroupLayout(spec.outFeatures(), spec.inFeatures(), spec.scheme().groupSize());
    }

    public boolean perTensor() {
        return groupSize == 0;
    }

    /** Elements in one group (the padded length). */
    public int groupLength() {
        if (groupSize == 0) {
            return rows * cols;
        }
        if (groupSize < 0 || cols < groupSize) {
            return cols;
        }
        return groupSize;
    }

    /** Groups along one row; 1 for per-tensor (the single group spans all rows). */
    public int groupsPerRow() {
        if (groupSize == 0) {
            return 1;
        }
        int g = groupLength();
        return (cols + g - 1) / g;
    }

    public int numGroups() {
        return groupSize == 0 ? 1 : rows * groupsPerRow();
    }

    /** Padded row length ({@code groupsPerRow * groupLength}, or {@code cols} for per-tensor). */
    public int paddedCols() {
        return groupSize == 0 ? cols : groupsPerRow() * groupLength();
    }

    public int padding() {
        return paddedCols() - cols;
    }

    /** Group index of element {@code (r, c)}. */
    public int groupOf(int r, int c) {
        return groupSize == 0 ? 0 : r * groupsPerRow() + c / groupLength();
    }

    /** Host weight {@code [rows*cols]} to grouped layout {@code [numGroups*groupLength]}, padding with {@code pad}. */
    public float[] toGroups(float[] w, float pad) {
        if (groupSize == 0 || padding() == 0) {
            return w.clone();
        }
        int pc = paddedCols();
        float[] out = new float[rows * pc];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, r * cols, out, r * pc, cols);
            java.util.Arrays.fill(out, r * pc + cols, (r + 1) * pc, pad);
        }
        return out;
    }

    /** Inverse of {@link #toGroups}: drops the padding. */
    public float[] fromGroups(float[] grouped) {
        if (groupSize == 0 || padding() == 0) {
            return grouped.clone();
        }
        int pc = paddedCols();
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(grouped, r * pc, out, r * cols, cols);
        }
        return out;
    }

    /** A {@code [rows, cols]} array to the grouped view {@code [numGroups, groupLength]} (differentiable). */
    public NDArray toGroups(NDArray w, float pad) {
        NDArray x = w;
        if (groupSize != 0 && padding() > 0) {
            NDArray fill = w.getManager().full(new Shape(rows, padding()), pad, w.getDataType());
            x = NDArrays.concat(new NDList(w, fill), 1);
        }
        return x.reshape(numGroups(), groupLength());
    }

    /** The grouped view back to {@code [rows, cols]} (differentiable). */
    public NDArray fromGroups(NDArray grouped) {
        if (groupSize == 0 || padding() == 0) {
            return grouped.reshape(rows, cols);
        }
        return grouped.reshape(rows, paddedCols()).get(new NDIndex(":, :" + cols));
    }
}
