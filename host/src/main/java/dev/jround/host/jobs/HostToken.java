package dev.jround.host.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The bearer token every API request must carry: {@code JROUND_HOST_TOKEN} when set, else the file {@code token}
 * in the state directory, created at first start with owner-only permissions (0600) and 32 random bytes.
 */
public final class HostToken {

    public static final String ENVIRONMENT = "JROUND_HOST_TOKEN";
    public static final String FILE = "token";

    private final byte[] token;
    private final String source;

    private HostToken(String token, String source) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.source = source;
    }

    /** From {@code environmentValue} when not blank, else the state directory's token file (created when missing). */
    public static HostToken resolve(String environmentValue, Path stateDir) {
        if (environmentValue != null && !environmentValue.isBlank()) {
            return new HostToken(environmentValue.trim(), "$" + ENVIRONMENT);
        }
        Path file = stateDir.resolve(FILE);
        try {
            if (!Files.exists(file)) {
                byte[] random = new byte[32];
                new SecureRandom().nextBytes(random);
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(Set.of(
                            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
                    Files.writeString(file, HexFormat.of().formatHex(random) + "\n");
                } catch (FileAlreadyExistsException raced) {
                    // another start created it first: read theirs
                }
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                throw new IllegalStateException("the token file " + file + " is readable by others ("
                        + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "' or set " + ENVIRONMENT);
            }
            String value = Files.readString(file).trim();
            if (value.isEmpty()) {
                throw new IllegalStateException("the token file " + file + " is empty; delete it to get a new token, or set " + ENVIRONMENT);
            }
            return new HostToken(value, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create or read the token file " + file, e);
        }
    }

    /** Where the token came from, for the start-up line (never the token itself). */
    public String source() {
        return source;
    }

    /** True when {@code header} is {@code Bearer <token>}; compared in constant time. */
    public boolean accepts(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(token, header.substring(7).trim().getBytes(StandardCharsets.UTF_8));
    }
}
