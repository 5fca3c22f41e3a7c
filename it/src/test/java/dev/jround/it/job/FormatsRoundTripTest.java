package dev.jround.it.job;

import dev.jround.it.Shared;
import dev.jround.kernel.api.AutoRound;
import dev.jround.kernel.eval.EvalReport;
import dev.jround.kernel.job.QuantizationJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 6 end to end: one tuning pass at W4G32 written to fake, auto_round, auto_gptq and auto_awq, each
 * loaded back through the inference backends; every packed format evaluates exactly like the fake one.
 */
class FormatsRoundTripTest {

    @TempDir
    Path out;

    @Test
    void everyFormatLoadsBackWithTheFakeModelsKld() throws java.io.IOException {
        Path model = Shared.aidreams();
        Path ids = model.resolve("calib_ids.json");
        QuantizationJob.Result result = AutoRound.builder(model.toString()).scheme("W4A16").groupSize(32).sym(false)
                .seqlen(128).nsamples(32).iters(50).lr(5e-3).dataset(model.resolve("calib.jsonl").toString())
                .build().quantizeAndSave(out, "fake", "auto_round", "auto_gptq", "auto_awq");
        List<Path> outputs = result.outputs();
        assertEquals(4, outputs.size());
        for (Path p : outputs) {
            assertTrue(Files.isRegularFile(p.resolve("config.json")), p + " has config.json");
        }
        // nothing that looks like a half-written run is left behind
        try (var s = Files.list(out)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
        EvalReport fake = Quality.against(outputs.get(0), model, ids, 32);
        assertTrue(fake.meanKld() > 0, "quantization changes the model");
        for (Path packed : outputs.subList(1, outputs.size())) {
            EvalReport r = Quality.against(packed, model, ids, 32);
            assertEquals(fake.meanKld(), r.meanKld(), 1e-9, packed + " KLD");
            assertEquals(fake.perplexity(), r.perplexity(), 1e-9, packed + " PPL");
        }
    }
}
