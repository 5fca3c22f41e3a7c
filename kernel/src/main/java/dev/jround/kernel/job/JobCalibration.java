package dev.jround.kernel.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.kernel.calib.CalibrationContext;
import dev.jround.kernel.calib.CalibrationPipeline;
import dev.jround.kernel.calib.CalibrationSet;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.data.DatasetContext;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.model.CausalLM;
import dev.jround.spi.quant.ProgressListener;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Calibration samples for a run: the dataset spec prepared by the kernel's calibration pipeline, with
 * the run's model as the sampler behind {@code self:} data. {@code seqlen} is clamped to the model's
 * context as AutoRound does.
 */
record JobCalibration(List<long[]> samples, String description) {

    static JobCalibration prepare(PluginRegistry registry, QuantizeRequest r, LoadedModel model, ProgressListener progress) {
        if (model.tokenizer() == null && (r.dataset() == null || !r.dataset().startsWith("self"))) {
            throw new InvalidInputException("model " + model.source() + " has no tokenizer a plugin can load",
                    "add tokenizer.json to the model directory, or calibrate with --dataset self:num=N");
        }
        int seqlen = r.effectiveSeqlen();
        int context = model.lm().maxPositions();
        if (context > 0 && seqlen > context) {
            progress.message("seqlen " + seqlen + " exceeds the model context " + context + "; using " + context);
            seqlen = context;
        }
        if (model.tokenizer() != null && model.tokenizer().modelMaxLength() < seqlen) {
            seqlen = model.tokenizer().modelMaxLength();
        }
        CalibrationContext ctx = CalibrationContext.builder(model.tokenizer())
                .seed(r.seed()).seqlen(seqlen).nsamples(r.effectiveNsamples())
                .codeModel(dev.jround.kernel.calib.CodeModels.isCodeModel(r.model(), model.config()))
                .sampler(new ModelSampler(model.lm(), model.tokenizer() == null ? 1 : Math.max(0, model.tokenizer().bosTokenId()), progress))
                .log(progress::message)
                .build();
        CalibrationSet set = new CalibrationPipeline(registry).prepare(r.dataset(), ctx);
        set.summary().lines().forEach(progress::message);
        if (set.size() == 0) {
            throw new InvalidInputException("the calibration data " + set.summary().spec() + " gave no sample of " + seqlen + " tokens",
                    "use a dataset with longer texts, lower --seqlen, or add :concat=True to the dataset spec");
        }
        List<long[]> rows = new ArrayList<>(set.inputIds());
        return new JobCalibration(rows, set.summary().spec());
    }

    /**
     * Seeded ancestral sampling from the full-precision model (temperature scaling, plain multinomial), used
     * by {@code --dataset self:...}. Sequences start with BOS.
     */
    static final class ModelSampler implements DatasetContext.TextSampler {
        private final CausalLM lm;
        private final long bos;
        private final ProgressListener progress;

        ModelSampler(CausalLM lm, long bos, ProgressListener progress) {
            this.lm = lm;
            this.bos = bos;
            this.progress = progress;
        }

        @Override
        public List<long[]> sample(int count, int length, long seed, double temperature) {
            Random rng = new Random(seed);
            List<long[]> out = new ArrayList<>();
            // Without a KV cache every step re-runs the prefix, so batch widely; only the last position goes
            // through the output projection (a full [batch, t, vocab] logits tensor would dwarf the model).
            int batch = 32;
            for (int start = 0; start < count; start += batch) {
                int b = Math.min(batch, count - start);
                long[][] seqs = new long[b][length];
                for (long[] s : seqs) {
                    s[0] = bos;
                }
                for (int t = 1; t < length; t++) {
                    try (NDManager m = NDManager.newBaseManager()) {
                        long[] flat = new long[b * t];
                        for (int i = 0; i < b; i++) {
                            System.arraycopy(seqs[i], 0, flat, i * t, t);
                        }
                        NDArray h = lm.embed(m, m.create(flat, new Shape(b, t)));
                        for (int k = 0; k < lm.numBlocks(); k++) {
                            h = lm.blockForward(k, h, BlockInputs.NONE, java.util.Map.of());
                        }
                        NDArray last = lm.head(h.get(":, -1:, :"), null).reshape(b, -1).toType(DataType.FLOAT32, false);
                        float[] probs = last.div((float) Math.max(temperature, 1e-6)).softmax(-1).toFloatArray();
                        int v = probs.length / b;
                        for (int i = 0; i < b; i++) {
                            double u = rng.nextDouble();
                            double acc = 0;
                            int pick = v - 1;
                            for (int k = 0; k < v; k++) {
                                acc += probs[i * v + k];
                                if (u < acc) {
                                    pick = k;
                                    break;
                                }
                            }
                            seqs[i][t] = pick;
                        }
                    }
                }
                for (long[] s : seqs) {
                    out.add(s);
                }
                progress.message(String.format("self-generated calibration: %d/%d sequences", out.size(), count));
            }
            return out;
        }
    }
}
