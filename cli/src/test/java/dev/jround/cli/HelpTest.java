package dev.jround.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --help}, {@code -h} and {@code help SUB} print the sub-command's usage and exit 0, for every sub-command. */
class HelpTest {

    static Stream<Arguments> invocations() {
        List<Arguments> all = new ArrayList<>();
        CommandLine cl = JroundCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String sub : cl.getSubcommands().keySet()) {
            all.add(Arguments.of(sub, List.of(sub, "--help")));
            all.add(Arguments.of(sub, List.of(sub, "-h")));
            all.add(Arguments.of(sub, List.of("help", sub)));
        }
        assertTrue(all.size() >= 30, "every sub-command is covered: " + cl.getSubcommands().keySet());
        all.add(Arguments.of("", List.of("--help")));
        all.add(Arguments.of("", List.of("help")));
        all.add(Arguments.of("", List.of()));
        // AutoRound's router: flags without a sub-command are quantize flags, --help included
        all.add(Arguments.of("quantize", List.of("--model", "m", "--help")));
        return all.stream();
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invocations")
    void printsUsageAndExitsZero(String sub, List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = JroundCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(new String[0]));
        assertEquals(0, code, err.toString());
        String usage = out.toString();
        // picocli's help command puts its one-line header before the usage line
        assertTrue(usage.lines().anyMatch(l -> l.startsWith("Usage: jround" + (sub.isEmpty() ? "" : " " + sub))), usage);
        assertTrue(usage.contains("-h, --help"), usage);
        assertEquals("", err.toString());
    }

    /** The auto-round-best/-light/-rtn/-opt-rtn/-eval launchers run one sub-command as the whole program. */
    @Test
    void singlePurposeLaunchersAnswerHelpWithTheirCommandsFlags() {
        StringWriter out = new StringWriter();
        assertEquals(0, JroundCli.executeOnly("quantize", new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "--help"));
        assertTrue(out.toString().startsWith("Usage: jround-quantize [-h]") && out.toString().contains("--iters"), out.toString());
        out = new StringWriter();
        assertEquals(0, JroundCli.executeOnly("eval", new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "-h"));
        assertTrue(out.toString().contains("[MODEL]") && out.toString().contains("--reference"), out.toString());
        StringWriter err = new StringWriter();
        assertEquals(2, JroundCli.executeOnly("eval", new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "--data", "x.txt"));
        assertTrue(err.toString().startsWith("error: no model given"), err.toString());
    }
}
