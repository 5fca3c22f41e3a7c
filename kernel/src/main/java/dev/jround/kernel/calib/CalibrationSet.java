package dev.jround.kernel.calib;

import java.util.ArrayList;
import java.util.List;

/**
 * Prepared calibration rows, in the order calibration consumes them, and what they came from.
 *
 * @param inputIds       token ids of each row (int64)
 * @param attentionMasks one mask per row, same length as its ids (1 = attend)
 * @param summary        sources, counts and token statistics
 */
public record CalibrationSet(List<long[]> inputIds, List<long[]> attentionMasks, CalibrationSummary summary) {

    public CalibrationSet {
        inputIds = List.copyOf(inputIds);
        attentionMasks = List.copyOf(attentionMasks);
        if (inputIds.size() != attentionMasks.size()) {
            throw new IllegalArgumentException("ids and masks differ in count");
        }
    }

    public int size() {
        return inputIds.size();
    }

    /**
     * One batch of the reference's calibration data loader.
     *
     * @param inputIds       {@code [b][seqlen]}
     * @param attentionMasks {@code [b][seqlen]}
     */
    public record Batch(long[][] inputIds, long[][] attentionMasks) {
        public int size() {
            return inputIds.length;
        }
    }

    /**
     * Rows in order, {@code batchSize} at a time, as the reference's collate step builds them: each row
     * cut to {@code seqlen}, rows whose last token fills more than half of the row dropped, empty
     * batches skipped.
     */
    public List<Batch> batches(int batchSize, int seqlen) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive: " + batchSize);
        }
        List<Batch> out = new ArrayList<>();
        for (int start = 0; start < inputIds.size(); start += batchSize) {
            List<long[]> ids = new ArrayList<>();
            List<long[]> masks = new ArrayList<>();
            for (int r = start; r < Math.min(start + batchSize, inputIds.size()); r++) {
                long[] row = java.util.Arrays.copyOf(inputIds.get(r), Math.min(seqlen, inputIds.get(r).length));
                if (row.length == 0 || CalibrationPipeline.lastTokenCount(row) > seqlen / 2) {
                    continue;
                }
                ids.add(row);
                masks.add(java.util.Arrays.copyOf(attentionMasks.get(r), row.length));
            }
            if (!ids.isEmpty()) {
                out.add(new Batch(ids.toArray(long[][]::new), masks.toArray(long[][]::new)));
            }
        }
        return out;
    }
}
