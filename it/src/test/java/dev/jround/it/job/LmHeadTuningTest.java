package dev.jround.it.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jround.it.TinyLlama;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.model.ModelLoader;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.model.BlockInputs;
import dev.jround.spi.quant.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --quant_lm_head} with SignRound tunes an untied lm_head with layer-level SignRound on its own inputs
 * (docs/algorithms.md) instead of rounding it to nearest: the tuning loss falls, and on the full-precision model's
 * head inputs the tuned head's output error is below the RTN head's.
 */
class LmHeadTuningTest {

    static final Pattern HEAD_LOSS = Pattern.compile("lm_head: tuned as one layer, loss (\\S+) -> (\\S+),");

    @TempDir
    Path dir;

    @Test
    void signRoundTunesTheLmHeadBelowRtn() throws Exception {
        Path model = TinyLlama.SMALL.write(dir.resolve("model"), 0f, false);
        Path calib = TinyLlama.SMALL.writeCalibration(dir.resolve("calib.jsonl"), 24, 20, 5);
        List<String> messages = new ArrayList<>();
        ProgressListener capture = new ProgressListener() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        };
        Path tunedOut = AutoRound.builder(model.toString()).scheme("W2A16").groupSize(32).quantLmHead(true).iters(40)
                .nsamples(16).seqlen(16).batchSize(4).dataset(calib.toString()).progress(capture).build()
                .quantizeAndSave(dir.resolve("tuned"), "fake").summary().outputs().get(0);
        Path rtnOut = AutoRound.builder(model.toString()).scheme("W2A16").groupSize(32).quantLmHead(true).iters(0)
                .disableOptRtn(true).build().quantizeAndSave(dir.resolve("rtn"), "fake").summary().outputs().get(0);

        Matcher m = messages.stream().map(HEAD_LOSS::matcher).filter(Matcher::find).findFirst()
                .orElseThrow(() -> new AssertionError("no lm_head tuning line in " + messages));
        assertTrue(Double.parseDouble(m.group(2)) < Double.parseDouble(m.group(1)), m.group());

        float[] tuned = headWeight(tunedOut);
        float[] rtn = headWeight(rtnOut);
        float[] fp = headWeight(model);
        ModelLoader loader = new ModelLoader(new ServiceLoaderRegistry(getClass().getClassLoader()), Path::of);
        try (LoadedModel lm = loader.load(model.toString(), DataType.FLOAT32);
             NDManager mgr = lm.device().newManager()) {
            Random r = new Random(9);
            long[] ids = new long[4 * 16];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + r.nextInt(TinyLlama.SMALL.vocab() - 3);
            }
            NDArray h = lm.lm().embed(mgr, mgr.create(ids, new Shape(4, 16)));
            for (int b = 0; b < lm.lm().numBlocks(); b++) {
                h = lm.lm().blockForward(b, h, BlockInputs.NONE, Map.of());
            }
            NDArray x = lm.lm().headInput(h);
            Shape ws = new Shape(TinyLlama.SMALL.vocab(), TinyLlama.SMALL.hidden());
            NDArray ref = x.matMul(mgr.create(fp, ws).transpose());
            double tunedErr = x.matMul(mgr.create(tuned, ws).transpose()).sub(ref).square().mean().getFloat();
            double rtnErr = x.matMul(mgr.create(rtn, ws).transpose()).sub(ref).square().mean().getFloat();
            System.out.printf("lm_head W2G32 output MSE on held-out inputs: tuned %.6g, RTN %.6g; %s%n", tunedErr, rtnErr, m.group());
            assertTrue(tunedErr < rtnErr, "lm_head output MSE on held-out inputs: tuned " + tunedErr + " vs RTN " + rtnErr);
        }
    }

    private static float[] headWeight(Path dir) throws Exception {
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            float[] w = ck.floats("lm_head.weight");
            assertEquals(TinyLlama.SMALL.vocab() * TinyLlama.SMALL.hidden(), w.length);
            return w;
        }
    }
}
