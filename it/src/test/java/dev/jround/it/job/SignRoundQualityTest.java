package dev.jround.it.job;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.job.BlockPipeline;
import dev.jround.kernel.job.QuantizationJob;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 5 on the real model: SignRound (default recipe, 200 iterations) lowers every block's output MSE
 * below RTN's and gives lower perplexity and KL divergence than RTN, at W4 and W2 with group 32.
 */
class SignRoundQualityTest {

    @TempDir
    Path out;

    @ParameterizedTest(name = "W{0}G32")
    @ValueSource(ints = {4, 2})
    void signRoundBeatsRtn(int bits) {
        Path model = Shared.aidreams();
        Path calib = model.resolve("calib.jsonl");
        Path ids = model.resolve("calib_ids.json");

        QuantizationJob.Result rtn = AutoRound.builder(model.toString()).scheme("W4A16").bits(bits).groupSize(32)
                .iters(0).disableOptRtn(true).build().quantizeAndSave(out.resolve("rtn"), "fake");
        QuantizationJob.Result tuned = AutoRound.builder(model.toString()).scheme("W4A16").bits(bits).groupSize(32)
                .seqlen(128).nsamples(128).dataset(calib.toString()).build().quantizeAndSave(out.resolve("signround"), "fake");

        assertEquals("signround", tuned.summary().algorithm());
        assertEquals(4, tuned.summary().blocks().size());
        for (BlockPipeline.BlockStat b : tuned.summary().blocks()) {
            // lossBefore: the block's MSE with RTN weights; lossAfter: with the tuned weights (same inputs, same reference)
            assertTrue(b.lossAfter() < b.lossBefore(), "block " + b.block() + ": SignRound MSE " + b.lossAfter()
                    + " is not below RTN's " + b.lossBefore());
        }
        EvalReport r = Quality.against(rtn.outputs().get(0), model, ids, 64);
        EvalReport s = Quality.against(tuned.outputs().get(0), model, ids, 64);
        assertTrue(s.meanKld() < r.meanKld(), "KLD: SignRound " + s.meanKld() + " vs RTN " + r.meanKld());
        assertTrue(s.perplexity() < r.perplexity(), "PPL: SignRound " + s.perplexity() + " vs RTN " + r.perplexity());
    }
}
