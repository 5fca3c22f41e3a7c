package dev.jround.kernel.output;

import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputTargetTest {

    @TempDir
    Path tmp;

    private Path model() throws IOException {
        Path m = Files.createDirectories(tmp.resolve("models/llama"));
        Files.writeString(m.resolve("config.json"), "{}");
        return m;
    }

    /** Writes one output through the whole protocol with {@code content} in {@code file.txt}. */
    private static Path write(OutputTarget t, String content) throws IOException {
        Path p = t.prepare();
        assertEquals(OutputTarget.STATE_WRITING, OutputTarget.state(p));
        Files.writeString(p.resolve("file.txt"), content);
        t.commit();
        return t.destination();
    }

    @Test
    void refusesDestinationsThatOverlapAnInput() throws IOException {
        Path m = model();
        for (Path bad : List.of(m, m.getParent(), tmp, m.resolve("out"), m.resolve("a/b"))) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> OutputTarget.claim(bad, List.of(m), true, "test", null), bad.toString());
            assertTrue(e.getMessage().contains(m.toString()), e.getMessage());
        }
        // the .partial / .old siblings count too: writing models/llama.partial would never touch the input,
        // but an input named like our sibling would be deleted as a stale partial
        Path sib = Files.createDirectories(tmp.resolve("x.partial"));
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(tmp.resolve("x"), List.of(sib), true, "test", null));
        // a sibling directory is fine
        OutputTarget ok = OutputTarget.claim(tmp.resolve("models/llama-w4g128"), List.of(m), true, "test", null);
        assertEquals(tmp.resolve("models/llama-w4g128").toAbsolutePath(), ok.destination());
    }

    @Test
    void symbolicLinksAreFollowedForTheOverlapCheck() throws IOException {
        Path m = model();
        Path link = Files.createSymbolicLink(tmp.resolve("link"), m);
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(link.resolve("out"), List.of(m), true, "test", null));
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(m.resolve("out"), List.of(link), true, "test", null));
        // a model directory of links (a Hugging Face snapshot) protects the files they point to
        Path blobs = Files.createDirectories(tmp.resolve("blobs"));
        Path blob = Files.writeString(blobs.resolve("abc"), "weights");
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        Files.createSymbolicLink(snap.resolve("model.safetensors"), blob);
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(blobs, List.of(snap), true, "test", null));
    }

    @Test
    void replacesOnlyItsOwnOutputs() throws IOException {
        Path m = model();
        Path dest = tmp.resolve("out/run");
        Path first = write(OutputTarget.claim(dest, List.of(m), true, "test", null), "one");
        assertEquals(OutputTarget.STATE_COMPLETE, OutputTarget.state(first));
        assertFalse(Files.exists(tmp.resolve("out/run.partial")));
        write(OutputTarget.claim(dest, List.of(m), true, "test", null), "two");
        assertEquals("two", Files.readString(dest.resolve("file.txt")));
        assertFalse(Files.exists(tmp.resolve("out/run.old")));
        try (var s = Files.list(tmp.resolve("out"))) {
            assertEquals(List.of(dest.toAbsolutePath()), s.map(Path::toAbsolutePath).toList());
        }
        // without permission to replace, even our own output stays
        InvalidInputException noOverwrite = assertThrows(InvalidInputException.class,
                () -> OutputTarget.claim(dest, List.of(m), false, "test", null));
        assertTrue(noOverwrite.hint().contains("--overwrite"), noOverwrite.hint());

        Path foreign = Files.createDirectories(tmp.resolve("out/theirs"));
        Files.writeString(foreign.resolve("notes.txt"), "keep me");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> OutputTarget.claim(foreign, List.of(m), true, "test", null));
        assertTrue(e.getMessage().contains("not written by jround"), e.getMessage());
        assertEquals("keep me", Files.readString(foreign.resolve("notes.txt")));
        Path file = Files.writeString(tmp.resolve("out/file"), "x");
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(file, List.of(m), true, "test", null));
        // an empty directory holds nothing to lose
        Path empty = Files.createDirectories(tmp.resolve("out/empty"));
        write(OutputTarget.claim(empty, List.of(m), true, "test", null), "e");
        assertEquals("e", Files.readString(empty.resolve("file.txt")));
    }

    @Test
    void aForeignPartialOrOldSiblingIsNeverDeleted() throws IOException {
        Path m = model();
        Path dest = tmp.resolve("run");
        Path partial = Files.createDirectories(tmp.resolve("run.partial"));
        Files.writeString(partial.resolve("data"), "theirs");
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(dest, List.of(m), true, "test", null));
        assertEquals("theirs", Files.readString(partial.resolve("data")));
        Files.move(partial, tmp.resolve("run.old"));
        assertThrows(InvalidInputException.class, () -> OutputTarget.claim(dest, List.of(m), true, "test", null));
        assertEquals("theirs", Files.readString(tmp.resolve("run.old/data")));
    }

    @Test
    void aStalePartialOfOursIsReplacedAndAFailedRunDiscardsItsPartial() throws IOException {
        Path m = model();
        Path dest = tmp.resolve("run");
        OutputTarget killed = OutputTarget.claim(dest, List.of(m), true, "test", null);
        Files.writeString(killed.prepare().resolve("half"), "x");
        OutputTarget next = OutputTarget.claim(dest, List.of(m), true, "test", null);
        Path p = next.prepare();
        assertFalse(Files.exists(p.resolve("half")));
        next.discard();
        assertFalse(Files.exists(p));
        assertFalse(Files.exists(dest));
    }

    /** States a kill between or after the renames leaves, and what the next claim makes of them. */
    @Test
    void recoversInterruptedSwaps() throws IOException {
        Path m = model();
        Path dest = tmp.resolve("run");
        Path partial = tmp.resolve("run.partial");
        Path old = tmp.resolve("run.old");
        List<String> log = new ArrayList<>();

        // killed after dest -> old, new partial still writing: roll back
        write(OutputTarget.claim(dest, List.of(m), true, "test", null), "previous");
        OutputTarget t = OutputTarget.claim(dest, List.of(m), true, "test", null);
        Files.writeString(t.prepare().resolve("file.txt"), "half");
        Files.move(dest, old);
        OutputTarget.claim(dest, List.of(m), true, "test", log::add);
        assertEquals("previous", Files.readString(dest.resolve("file.txt")));
        assertFalse(Files.exists(old));
        assertTrue(log.get(0).contains("restored the previous output"), log.toString());

        // killed between the renames with the new partial complete: finish
        t = OutputTarget.claim(dest, List.of(m), true, "test", null);
        Files.writeString(t.prepare().resolve("file.txt"), "new");
        t.commit();
        assertEquals("new", Files.readString(dest.resolve("file.txt")));
        write(OutputTarget.claim(dest, List.of(m), true, "test", null), "newer");
        Files.move(dest, old);
        Files.createDirectories(partial);
        Files.copy(old.resolve(OutputTarget.MARKER), partial.resolve(OutputTarget.MARKER));
        Files.writeString(partial.resolve("file.txt"), "newest");
        log.clear();
        OutputTarget.claim(dest, List.of(m), true, "test", log::add);
        assertEquals("newest", Files.readString(dest.resolve("file.txt")));
        assertFalse(Files.exists(old));
        assertFalse(Files.exists(partial));
        assertTrue(log.get(0).contains("finished an interrupted replacement"), log.toString());

        // killed while deleting old: old is removed
        Files.createDirectories(old);
        Files.copy(dest.resolve(OutputTarget.MARKER), old.resolve(OutputTarget.MARKER));
        log.clear();
        OutputTarget.claim(dest, List.of(m), true, "test", log::add);
        assertFalse(Files.exists(old));
        assertTrue(log.get(0).contains("removed the previous output"), log.toString());
    }

    @Test
    void claimingOneOutputRecoversItsNeighbours() throws IOException {
        Path m = model();
        Path other = tmp.resolve("out/other");
        write(OutputTarget.claim(other, List.of(m), true, "test", null), "kept");
        Files.move(other, tmp.resolve("out/other.old"));
        List<String> log = new ArrayList<>();
        OutputTarget.claim(tmp.resolve("out/mine"), List.of(m), true, "test", log::add);
        assertEquals("kept", Files.readString(other.resolve("file.txt")));
        assertEquals(1, log.size(), log.toString());
    }

    @Test
    void deletingLeavesTheMarkerForLast() throws IOException {
        Path m = model();
        OutputTarget t = OutputTarget.claim(tmp.resolve("run"), List.of(m), true, "test", null);
        Path p = t.prepare();
        Files.createDirectories(p.resolve("a/b"));
        Files.writeString(p.resolve("a/b/c"), "x");
        // a directory whose contents are gone but whose marker remains is still ours
        Files.delete(p.resolve("a/b/c"));
        assertTrue(OutputTarget.isOurs(p));
        OutputTarget.deleteOwned(p);
        assertFalse(Files.exists(p));
    }
}
