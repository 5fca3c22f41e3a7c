package dev.jround.kernel.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.JroundException;
import dev.jround.spi.PluginDescriptor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The one service through which every jround command that writes a model directory claims, fills and
 * publishes it (docs/reliability.md). Rules:
 * <ul>
 *   <li>the destination is never equal to, inside or a parent of an input (nor are its {@code .partial} and
 *   {@code .old} siblings);</li>
 *   <li>an existing destination is replaced only when it carries jround's marker {@value #MARKER} (or is
 *   empty) and the caller allows replacing; a directory jround did not write is never deleted;</li>
 *   <li>everything is written into {@code <dest>.partial}; the commit marks it complete and swaps it in
 *   with two renames; a swap interrupted by a kill is finished or rolled back by {@link #claim} of the next
 *   run writing next to it.</li>
 * </ul>
 */
public final class OutputTarget {

    /** Written by jround at the top of every output; hidden, so model loaders ignore it. */
    public static final String MARKER = ".jround-output.json";
    /**
     * Test-only fault injection: {@code -Djround.test.haltAfter=first-rename} halts the JVM (exit 137, like
     * SIGKILL) between the two renames of a replacing commit; {@code complete-marker} halts after the partial
     * was marked complete and before any rename.
     */
    public static final String HALT_PROPERTY = "jround.test.haltAfter";

    static final String STATE_WRITING = "writing";
    static final String STATE_COMPLETE = "complete";
    private static final String MARKER_TMP = MARKER + ".tmp";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path destination;
    private final Path partial;
    private final Path old;
    private final boolean replace;
    private final String command;
    private final Consumer<String> log;

    private OutputTarget(Path destination, boolean replace, String command, Consumer<String> log) {
        this.destination = destination;
        this.partial = sibling(destination, ".partial");
        this.old = sibling(destination, ".old");
        this.replace = replace;
        this.command = command;
        this.log = log == null ? s -> { } : log;
    }

    /**
     * Checks that {@code destination} may be written, before any work: refuses an overlap with an input and
     * an existing directory jround may not replace, and first recovers half-done swaps beside it.
     *
     * @param inputs  every path the run reads (model directory, data files); missing ones are ignored
     * @param replace whether an existing previous jround output at {@code destination} may be replaced
     * @param command the writing command, recorded in the marker
     * @param log     receives one line per recovery action
     */
    public static OutputTarget claim(Path destination, List<Path> inputs, boolean replace, String command, Consumer<String> log) {
        Path dest = destination.toAbsolutePath().normalize();
        if (dest.getParent() == null) {
            throw new InvalidInputException("cannot write an output at the file-system root " + destination, "choose another output directory");
        }
        // A file where a parent directory must go, or a read-only parent, would otherwise fail only at the end.
        for (Path p = dest.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new InvalidInputException("output directory " + p + " is a file, not a directory",
                            "choose an --output_dir that is a directory or does not exist yet");
                }
                if (!Files.isWritable(p)) {
                    throw new JroundException("cannot write under " + p + ": permission denied",
                            "choose an --output_dir you can write to");
                }
                break;
            }
        }
        OutputTarget t = new OutputTarget(dest, replace, command, log);
        t.checkOverlap(destination, inputs);
        t.recoverBeside();
        t.checkExisting();
        return t;
    }

    /** The final directory (absolute); it exists only once {@link #commit()} returned. */
    public Path destination() {
        return destination;
    }

    /** The directory the run writes into. */
    public Path partial() {
        return partial;
    }

    /** Replaces any stale partial directory of ours by a fresh one carrying the {@code writing} marker. */
    public Path prepare() {
        try {
            if (Files.exists(partial, LinkOption.NOFOLLOW_LINKS)) {
                requireOurs(partial);
                deleteOwned(partial);
            }
            Files.createDirectories(partial);
            writeMarker(partial, STATE_WRITING);
            return partial;
        } catch (IOException e) {
            throw new JroundException("cannot create output directory " + partial + ": " + e.getMessage(), "check permissions and free space", e);
        }
    }

    /**
     * Marks the partial complete and swaps it in: {@code dest → dest.old}, {@code partial → dest}, delete
     * {@code dest.old}. Killed at any point, the next {@link #claim} finds {@code dest} or restores it.
     */
    public void commit() {
        try {
            writeMarker(partial, STATE_COMPLETE);
            haltIfAsked("complete-marker");
            if (Files.exists(destination, LinkOption.NOFOLLOW_LINKS)) {
                // someone may have created it while the run was working
                requireReplaceable(destination);
                if (Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
                    requireOurs(old);
                    deleteOwned(old);
                }
                Files.move(destination, old, StandardCopyOption.ATOMIC_MOVE);
                haltIfAsked("first-rename");
                Files.move(partial, destination, StandardCopyOption.ATOMIC_MOVE);
                deleteOwned(old);
            } else {
                Files.createDirectories(destination.getParent());
                Files.move(partial, destination, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new JroundException("cannot move " + partial + " to " + destination + ": " + e.getMessage(), null, e);
        }
    }

    /** Removes the partial directory after a failure (best effort: a partial never looks complete). */
    public void discard() {
        try {
            if (isOurs(partial)) {
                deleteOwned(partial);
            }
        } catch (IOException ignored) {
            // a leftover *.partial is removed by the next run writing here
        }
    }

    // ---- checks ----

    private void checkOverlap(Path given, List<Path> inputs) {
        List<Path> mine = List.of(canonical(destination), canonical(partial), canonical(old));
        for (Path in : expand(inputs)) {
            Path c = canonical(in);
            for (Path m : mine) {
                if (m.equals(c) || m.startsWith(c) || c.startsWith(m)) {
                    String how = m.equals(c) ? "is" : m.startsWith(c) ? "is inside" : "contains";
                    throw new InvalidInputException("output directory " + given + " " + how + " the input " + in
                            + (m.equals(canonical(destination)) ? "" : " (through its sibling " + m.getFileName() + ")"),
                            "choose an --output_dir outside the input, and not one that contains it");
                }
            }
        }
    }

    /** The inputs, plus the targets of symbolic links directly inside input directories (Hugging Face cache snapshots). */
    private static List<Path> expand(List<Path> inputs) {
        List<Path> all = new ArrayList<>();
        for (Path p : inputs) {
            if (p == null || !Files.exists(p)) {
                continue;
            }
            all.add(p);
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(Files::isSymbolicLink).filter(Files::exists).forEach(all::add);
                } catch (IOException ignored) {
                    // unreadable listing: the directory itself is still checked
                }
            }
        }
        return all;
    }

    /** Real path of the longest existing prefix (symbolic links resolved) joined with the rest. */
    static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;
        }
    }

    private void checkExisting() {
        if (Files.exists(destination, LinkOption.NOFOLLOW_LINKS)) {
            if (!replace) {
                throw new InvalidInputException("output directory " + destination + " already exists",
                        "choose a new directory, or pass --overwrite to replace a previous jround output");
            }
            requireReplaceable(destination);
        }
        if (Files.exists(partial, LinkOption.NOFOLLOW_LINKS)) {
            requireOurs(partial);
        }
        if (Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
            requireOurs(old);
        }
    }

    private void requireReplaceable(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new InvalidInputException(dir + " exists and is not a directory; jround replaces only directories it wrote",
                    "move it away or choose another output directory");
        }
        requireOurs(dir);
    }

    private static void requireOurs(Path dir) {
        if (!isOurs(dir)) {
            throw new InvalidInputException(dir + " exists and was not written by jround (it has no " + MARKER
                    + "); jround never deletes a directory it did not create", "move it away or choose another output directory");
        }
    }

    /** Ours: a directory (not a link) that carries jround's marker, or is empty, or holds only a half-written marker. */
    static boolean isOurs(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (readMarker(dir) != null) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.allMatch(p -> p.getFileName().toString().equals(MARKER_TMP));
        } catch (IOException e) {
            return false;
        }
    }

    // ---- recovery ----

    /** Finishes or rolls back interrupted swaps of this destination and of every marked {@code *.old} beside it. */
    private void recoverBeside() {
        recover(destination);
        Path parent = destination.getParent();
        if (!Files.isDirectory(parent)) {
            return;
        }
        List<Path> olds;
        try (Stream<Path> s = Files.list(parent)) {
            olds = s.filter(p -> p.getFileName().toString().endsWith(".old") && !p.equals(old) && readMarker(p) != null).toList();
        } catch (IOException e) {
            return;
        }
        for (Path o : olds) {
            String name = o.getFileName().toString();
            recover(parent.resolve(name.substring(0, name.length() - ".old".length())));
        }
    }

    private void recover(Path dest) {
        Path o = sibling(dest, ".old");
        Path p = sibling(dest, ".partial");
        if (!Files.exists(o, LinkOption.NOFOLLOW_LINKS) || !isOurs(o)) {
            return;
        }
        try {
            if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
                deleteOwned(o);
                log.accept("recovered " + dest + ": removed the previous output left as " + o.getFileName());
            } else if (STATE_COMPLETE.equals(state(p))) {
                Files.move(p, dest, StandardCopyOption.ATOMIC_MOVE);
                deleteOwned(o);
                log.accept("recovered " + dest + ": finished an interrupted replacement with the complete new output");
            } else {
                Files.move(o, dest, StandardCopyOption.ATOMIC_MOVE);
                log.accept("recovered " + dest + ": restored the previous output after an interrupted replacement");
            }
        } catch (IOException e) {
            throw new JroundException("cannot recover the interrupted output " + dest + ": " + e.getMessage(),
                    "look at " + o + " and " + p + " by hand", e);
        }
    }

    // ---- marker ----

    private void writeMarker(Path dir, String state) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tool", "jround");
        m.put("version", PluginDescriptor.versionOf(OutputTarget.class, "0.1.0"));
        m.put("command", command);
        m.put("state", state);
        m.put("created", Instant.now().toString());
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        Path tmp = dir.resolve(MARKER_TMP);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The marker of {@code dir} if it is jround's, else {@code null}. */
    static JsonNode readMarker(Path dir) {
        Path f = dir.resolve(MARKER);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
            return n != null && "jround".equals(n.path("tool").asText()) ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code writing}, {@code complete}, or {@code null} when {@code dir} carries no marker. */
    static String state(Path dir) {
        JsonNode n = readMarker(dir);
        return n == null ? null : n.path("state").asText();
    }

    // ---- file operations ----

    private static Path sibling(Path dest, String suffix) {
        return dest.resolveSibling(dest.getFileName() + suffix);
    }

    /** Deletes a directory of ours with its marker last, so that a kill mid-way leaves it still recognisable. */
    static void deleteOwned(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path marker = dir.resolve(MARKER);
        Path markerTmp = dir.resolve(MARKER_TMP);
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!file.equals(marker) && !file.equals(markerTmp)) {
                    Files.delete(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                if (d.equals(dir)) {
                    Files.deleteIfExists(markerTmp);
                    Files.deleteIfExists(marker);
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void haltIfAsked(String point) {
        if (point.equals(System.getProperty(HALT_PROPERTY))) {
            Runtime.getRuntime().halt(137);
        }
    }
}
