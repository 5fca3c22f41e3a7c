package dev.jround.spi.quant;

/**
 * An integer grid: unsigned codes with one scale and zero point per (row, group along the row).
 * Shapes are row-major over the weight's {@code [rows = out, cols = in]} layout.
 *
 * @param bits      code bits; codes lie in {@code [0, 2^bits)}
 * @param groupSize group length along a row (the row length for per-channel and per-tensor)
 * @param codes     {@code rows*cols} codes
 * @param scales    {@code rows*groupsPerRow} scales, already rounded to the scheme's scale dtype
 * @param zeros     per-group zero points ({@code 2^(bits-1)} everywhere for symmetric int), as many as scales
 * @param gIdx      the group of every input column when it is permuted (GPTQ act-order), else {@code null}
 */
public record IntegerGrid(int bits, int groupSize, int[] codes, float[] scales, int[] zeros, int[] gIdx) implements Payload {

    public IntegerGrid(int bits, int groupSize, int[] codes, float[] scales, int[] zeros) {
        this(bits, groupSize, codes, scales, zeros, null);
    }

    /** Groups along a row of {@code cols} elements, by the one grouping rule ({@link GroupLayout}). */
    public int groupsPerRow(int cols) {
        return new GroupLayout(1, cols, groupSize).groupsPerRow();
    }

    /** Whether the columns' groups are permuted (a non-trivial g_idx). */
    public boolean actOrder() {
        return gIdx != null;
    }
}
