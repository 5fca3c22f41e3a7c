package dev.jround.it.job;

import ai.djl.ndarray.types.DataType;
import dev.jround.kernel.eval.EvalData;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.eval.Evaluator;
import dev.jround.kernel.hub.ModelSource;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;

import java.nio.file.Path;
import java.util.List;

/** Perplexity and KL divergence of a checkpoint against the full-precision model, through jround's own eval. */
final class Quality {

    private Quality() {
    }

    static EvalReport against(Path candidate, Path reference, Path idsFile, int maxSequences) {
        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry(Quality.class.getClassLoader()), Path::of);
        try (LoadedModel ref = loader.load(reference.toString(), DataType.FLOAT32);
             LoadedModel cand = loader.load(candidate.toString(), DataType.FLOAT32)) {
            List<long[]> seqs = EvalData.load(idsFile, ref.tokenizer(), 128);
            if (seqs.size() > maxSequences) {
                seqs = seqs.subList(0, maxSequences);
            }
            return new Evaluator(16).evaluate(cand, ref, seqs, idsFile.getFileName().toString(), null);
        }
    }
}
