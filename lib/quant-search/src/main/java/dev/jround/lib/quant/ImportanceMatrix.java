package dev.jround.lib.quant;

import dev.jround.spi.quant.GroupLayout;

/** The importance matrix of optimized RTN in grouped layout, with the reference's zero handling (docs/algorithms.md). */
public final class ImportanceMatrix {

    private ImportanceMatrix() {
    }

    /**
     * Importance matrix prepared for the search (docs/algorithms.md): broadcast to every row, grouped like the weight
     * (padding 1e-5), then the zero handling when its smallest value is exactly 0.
     *
     * @param groupSizeArg the layer's raw group size (the reference compares zero counts with {@code group_size // 2})
     */
    public static float[] grouped(float[] imatrix, float[] groupedWeight, GroupLayout layout, int bits, int groupSizeArg) {
        int rows = layout.rows();
        int cols = layout.cols();
        float[] full = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(imatrix, 0, full, r * cols, cols);
        }
        float[] w = layout.toGroups(full, 1e-5f);
        float min = Float.POSITIVE_INFINITY;
        for (float f : imatrix) {
            min = Math.min(min, f);
        }
        if (min != 0f) {
            return w;
        }
        int len = layout.groupLength();
        int half = Math.floorDiv(groupSizeArg, 2);
        int groups = layout.numGroups();
        int[] zeroCount = new int[groups];
        boolean anyMeanFill = false;
        for (int g = 0; g < groups; g++) {
            int off = g * len;
            for (int k = 0; k < len; k++) {
                if (w[off + k] <= 1e-30f) {
                    zeroCount[g]++;
                }
            }
            anyMeanFill |= zeroCount[g] > 0 && zeroCount[g] <= half;
        }
        for (int g = 0; g < groups; g++) {
            if (zeroCount[g] <= half) {
                continue;
            }
            // mostly unobserved channels: fall back to weight magnitudes, as without an imatrix
            int off = g * len;
            float sigma = 0f;
            if (bits > 3) {
                float sq = 0f;
                for (int k = 0; k < len; k++) {
                    sq += groupedWeight[off + k] * groupedWeight[off + k];
                }
                sigma = (float) Math.sqrt(sq / 32f);
            }
            for (int k = 0; k < len; k++) {
                float a = Math.abs(groupedWeight[off + k]);
                w[off + k] = bits <= 3 ? a : a + sigma;
            }
        }
        if (anyMeanFill) {
            // the reference then fills every exact zero left (in any group) with its group's mean over non-zeros
            for (int g = 0; g < groups; g++) {
                int off = g * len;
                float sum = 0f;
                for (int k = 0; k < len; k++) {
                    sum += w[off + k];
                }
                float mean = sum / (len - zeroCount[g]);
                for (int k = 0; k < len; k++) {
                    if (w[off + k] == 0f) {
                        w[off + k] = mean;
                    }
                }
            }
        }
        return w;
    }

}
