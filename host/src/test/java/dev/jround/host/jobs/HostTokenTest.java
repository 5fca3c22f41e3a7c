package dev.jround.host.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostTokenTest {

    @TempDir
    Path state;

    @Test
    void theFirstStartCreatesAnOwnerOnlyTokenFileThatLaterStartsReuse() throws Exception {
        HostToken first = HostToken.resolve(null, state);
        Path file = state.resolve(HostToken.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String token = Files.readString(file).trim();
        assertTrue(token.matches("[0-9a-f]{64}"), token);
        assertTrue(first.accepts("Bearer " + token));
        assertTrue(HostToken.resolve("  ", state).accepts("Bearer " + token), "a blank variable means: the file");
        assertEquals(token, Files.readString(file).trim(), "not replaced");
        assertEquals(file.toString(), first.source());
    }

    @Test
    void theEnvironmentWinsAndNothingIsWritten() {
        HostToken t = HostToken.resolve("s3cret", state);
        assertTrue(t.accepts("Bearer s3cret"));
        assertTrue(t.accepts("bearer s3cret"), "the scheme is case-insensitive");
        assertFalse(t.accepts("Bearer s3cret2"));
        assertFalse(t.accepts("Bearer "));
        assertFalse(t.accepts("s3cret"));
        assertFalse(t.accepts("Basic s3cret"));
        assertFalse(t.accepts(null));
        assertFalse(Files.exists(state.resolve(HostToken.FILE)));
        assertEquals("$JROUND_HOST_TOKEN", t.source());
    }

    @Test
    void aTokenFileOthersCanReadIsRefused() throws Exception {
        Path file = Files.writeString(state.resolve(HostToken.FILE), "abc\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> HostToken.resolve(null, state));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    }
}
