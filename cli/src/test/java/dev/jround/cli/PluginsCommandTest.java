package dev.jround.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PluginsCommandTest {

    @Test
    void printsATableWithHeaderAndCount() {
        ListCommandTest.Run run = ListCommandTest.Run.of("plugins");
        assertEquals(0, run.code(), run.err());
        List<String> lines = run.out().lines().toList();
        assertTrue(lines.get(0).matches("KIND\\s+ID\\s+VERSION\\s+SOURCE\\s+DESCRIPTION"), lines.get(0));
        assertEquals((lines.size() - 2) + " plugins", lines.get(lines.size() - 1));
    }

    @Test
    void unknownFlagExitsWithTwoAndOneErrorLine() {
        ListCommandTest.Run run = ListCommandTest.Run.of("plugins", "--bogus");
        assertEquals(2, run.code());
        List<String> errors = run.err().lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(List.of("error: Unknown option: '--bogus'"), errors);
        assertTrue(run.err().lines().count() <= 2, "error plus at most a hint: " + run.err());
    }

    @Test
    void versionAndHelpSucceed() {
        ListCommandTest.Run version = ListCommandTest.Run.of("--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("jround "), version.out());
        ListCommandTest.Run help = ListCommandTest.Run.of("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("plugins") && help.out().contains("list"), help.out());
    }
}
