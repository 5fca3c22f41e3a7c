package dev.jround.plugin.dtype.fp8;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jround.spi.quant.GroupLayout;

/**
 * What one FP8 scale covers, as a grouped view {@code [numGroups, groupLength]}: the scheme's 1-D grouping
 * ({@link GroupLayout}: per tensor, per channel, groups along a row) or 2-D tiles of {@code blockRows x blockCols}
 * (the weight zero-padded to whole tiles; group {@code bi * tileCols + bj}, row-major inside a tile, as the
 * reference orders them).
 */
final class Fp8Layout {

    final int rows;
    final int cols;
    private final GroupLayout groups;
    final int blockRows;
    final int blockCols;

    private Fp8Layout(int rows, int cols, GroupLayout groups, int blockRows, int blockCols) {
        this.rows = rows;
        this.cols = cols;
        this.groups = groups;
        this.blockRows = blockRows;
        this.blockCols = blockCols;
    }

    static Fp8Layout grouped(int rows, int cols, int groupSize) {
        GroupLayout g = new GroupLayout(rows, cols, groupSize);
        int br = g.perTensor() ? rows : 1;
        int bc = g.perTensor() ? cols : g.groupLength();
        return new Fp8Layout(rows, cols, g, br, bc);
    }

    static Fp8Layout blocks(int rows, int cols, int blockRows, int blockCols) {
        return new Fp8Layout(rows, cols, null, blockRows, blockCols);
    }

    boolean tiled() {
        return groups == null;
    }

    private int tileRows() {
        return (rows + blockRows - 1) / blockRows;
    }

    private int tileCols() {
        return (cols + blockCols - 1) / blockCols;
    }

    int numGroups() {
        return tiled() ? tileRows() * tileCols() : groups.numGroups();
    }

    int groupLength() {
        return tiled() ? blockRows * blockCols : groups.groupLength();
    }

    float[] toGroups(float[] w) {
        if (!tiled()) {
            return groups.toGroups(w, 0f);
        }
        float[] out = new float[numGroups() * groupLength()];
        int tc = tileCols();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[index(r, c, tc)] = w[r * cols + c];
            }
        }
        return out;
    }

    float[] fromGroups(float[] g) {
        if (!tiled()) {
            return groups.fromGroups(g);
        }
        float[] out = new float[rows * cols];
        int tc = tileCols();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = g[index(r, c, tc)];
            }
        }
        return out;
    }

    private int index(int r, int c, int tc) {
        int group = (r / blockRows) * tc + c / blockCols;
        return group * groupLength() + (r % blockRows) * blockCols + c % blockCols;
    }

    NDArray toGroups(NDArray w) {
        if (!tiled()) {
            return groups.toGroups(w, 0f);
        }
        int pr = tileRows() * blockRows - rows;
        int pc = tileCols() * blockCols - cols;
        NDArray x = w;
        if (pc > 0) {
            x = NDArrays.concat(new NDList(x, w.getManager().zeros(new Shape(rows, pc), w.getDataType())), 1);
        }
        if (pr > 0) {
            x = NDArrays.concat(new NDList(x, w.getManager().zeros(new Shape(pr, cols + pc), w.getDataType())), 0);
        }
        return x.reshape(tileRows(), blockRows, tileCols(), blockCols).transpose(0, 2, 1, 3)
                .reshape(numGroups(), groupLength());
    }

    NDArray fromGroups(NDArray g) {
        if (!tiled()) {
            return groups.fromGroups(g);
        }
        NDArray full = g.reshape(tileRows(), tileCols(), blockRows, blockCols).transpose(0, 2, 1, 3)
                .reshape(tileRows() * blockRows, tileCols() * blockCols);
        return full.get(new NDIndex(":" + rows + ", :" + cols));
    }
}
