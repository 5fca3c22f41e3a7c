package dev.jround.cli;

import dev.jround.kernel.job.QuantizeRequest;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@code quantize} reads its command line: argparse's conventions, checked without running a job. */
class QuantizeCommandTest {

    /** The request the CLI would run for these quantize arguments. */
    private static QuantizeRequest request(String... args) {
        CommandLine cl = JroundCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        CommandLine.ParseResult parsed = cl.parseArgs(QuantizeCommand.route(args, cl.getSubcommands().keySet()));
        QuantizeCommand q = parsed.subcommand().commandSpec().commandLine().getCommand();
        return q.toRequest();
    }

    @Test
    void aRepeatedFlagKeepsTheLastValue() {
        QuantizeRequest r = request("--model", "m", "--bits", "4", "--bits", "3", "--format", "fake", "--format", "auto_round,fake",
                "--scheme", "W2A16", "--scheme=W8A16", "--asym", "--asym");
        assertEquals(3, r.bits());
        assertEquals(List.of("auto_round", "fake"), r.formats());
        assertEquals("W8A16", r.scheme());
        assertEquals(Boolean.FALSE, r.sym());
    }

    @Test
    void negativeNumbersAreValuesNotOptions() {
        QuantizeRequest r = request("m", "--group_size", "-1", "--bits", "-3", "--minmax_lr", "1e-3");
        assertEquals(-1, r.groupSize(), "-1 is per channel, as in AutoRound");
        assertEquals(-3, r.bits(), "parsed as a value; the scheme resolver refuses it with the model loaded");
        assertEquals(1e-3, r.minmaxLr());
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "--model", "m", "--iters", "-1");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().startsWith("error: --iters -1 is invalid"), err.toString());
    }

    @Test
    void leftOutValuesStayUnset() {
        QuantizeRequest r = request("--model", "dir/", "--iters", "0");
        assertEquals("dir", r.model());
        assertNull(r.bits());
        assertNull(r.sym());
        assertNull(r.disableOptRtn());
        assertNull(r.formats(), "no --format: the job takes the format an exporter declares as the default");
        assertEquals(-1, r.maxShardBytes());
        assertFalse(r.notices().iterator().hasNext());
    }

    @Test
    void compatibilityFlagsBecomeNotices() {
        QuantizeRequest r = request("--model", "m", "--enable_torch_compile", "--low_cpu_mem_usage");
        assertEquals(2, r.notices().size(), r.notices().toString());
        assertTrue(r.notices().get(0).startsWith("--enable_torch_compile has no effect"), r.notices().toString());
    }
}
