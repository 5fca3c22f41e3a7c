package dev.jround.cli;

import dev.jround.kernel.api.AutoRound;
import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI and the Java API refuse the same values with the same message and hint: both end in
 * {@code QuantizeRequest.Builder.build()}. Each case is one bad value given once as flags and once as builder calls;
 * nothing is loaded (the model path does not exist).
 */
class RequestValidationParityTest {

    private static final String MODEL = "no/such-model";

    static Stream<Arguments> badValues() {
        return Stream.of(
                bad("--iters -1", b -> b.iters(-1), "--iters -1 is invalid"),
                bad("--nsamples 0", b -> b.nsamples(0), "--nsamples must be a positive integer, got 0"),
                bad("--seqlen -5", b -> b.seqlen(-5), "--seqlen must be a positive integer, got -5"),
                bad("--batch_size 0", b -> b.batchSize(0), "--batch_size must be a positive integer"),
                bad("--gradient_accumulate_steps 0", b -> b.gradientAccumulateSteps(0), "--gradient_accumulate_steps must be"),
                bad("--lr 0", b -> b.lr(0), "--lr 0.0 is invalid"),
                bad("--lr NaN", b -> b.lr(Double.NaN), "--lr NaN is invalid"),
                bad("--minmax_lr -1", b -> b.minmaxLr(-1), "--minmax_lr -1.0 is invalid"),
                bad("--momentum 1", b -> b.momentum(1), "--momentum 1.0 is invalid"),
                bad("--seed -1", b -> b.seed(-1), "--seed -1 is invalid"),
                bad("--seed 5000000000", b -> b.seed(5_000_000_000L), "--seed 5000000000 is invalid"),
                bad("--act_bits 0", b -> b.actBits(0), "--act_bits 0 is invalid"),
                bad("--act_group_size -2", b -> b.actGroupSize(-2), "--act_group_size -2 is invalid"),
                bad("--asym --sym", b -> b.sym(true).asym(true), "--asym and --sym contradict each other"),
                bad("--disable_opt_rtn --enable_opt_rtn", b -> b.disableOptRtn(true).enableOptRtn(true), "mutually exclusive"),
                bad("--format ,", b -> b.formats(","), "--format is empty"),
                bad("--format ,", b -> b.formats(List.of()), "--format is empty"),
                bad("--max_shard_size 0", b -> b.maxShardBytes(0), "--max_shard_size must be a positive number of bytes"),
                bad("--recipe fastest", b -> b.recipe("fastest"), "unknown recipe 'fastest'"),
                bad("--layer_config {bad", b -> b.layerConfig("{bad"), "--layer_config"),
                bad("--output_dir=", b -> b.outputDir(""), "--output_dir is empty"),
                bad("--model=", b -> b.model(""), "no model given"));
    }

    private static Arguments bad(String flags, UnaryOperator<AutoRound.Builder> api, String expected) {
        return Arguments.of(flags, api, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void cliAndApiRefuseAlike(String flags, UnaryOperator<AutoRound.Builder> api, String expected) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> api.apply(AutoRound.builder(MODEL)).build());
        assertTrue(e.getMessage().contains(expected), e.getMessage());

        List<String> args = new ArrayList<>(List.of("quantize", "--model", MODEL));
        args.addAll(List.of(flags.split(" ")));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(new String[0]));
        assertEquals(2, code, err.toString());
        List<String> lines = err.toString().lines().toList();
        assertEquals(List.of("error: " + e.getMessage(), "hint: " + e.hint()), lines, "the CLI says what the API says");
    }
}
