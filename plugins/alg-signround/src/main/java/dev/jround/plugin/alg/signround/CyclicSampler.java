package dev.jround.plugin.alg.signround;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The reference's per-block index sampler (docs/algorithms.md): a shuffled list of {@code 0..n-1} handed out in batches of
 * {@code batch}; when fewer than {@code batch} indices remain, the whole list is reshuffled and restarted (the
 * incomplete tail is dropped). All shuffles draw from the job's shared generator.
 */
final class CyclicSampler {

    private final List<Integer> indices;
    private final int batch;
    private final Random rng;
    private int position;

    CyclicSampler(int n, int batch, Random rng) {
        if (batch <= 0 || batch > n) {
            throw new IllegalArgumentException("batch " + batch + " must be in 1.." + n);
        }
        this.batch = batch;
        this.rng = rng;
        this.indices = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            indices.add(i);
        }
        Collections.shuffle(indices, rng);
    }

    List<Integer> next() {
        if (position + batch > indices.size()) {
            Collections.shuffle(indices, rng);
            position = 0;
        }
        List<Integer> out = List.copyOf(indices.subList(position, position + batch));
        position += batch;
        return out;
    }
}
