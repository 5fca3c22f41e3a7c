package dev.jround.lib.hub;

import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache as huggingface_hub lays it out:
 * <pre>
 * &lt;cache&gt;/models--owner--name/
 *     refs/&lt;revision&gt;                 a text file holding the commit hash the revision pointed to
 *     blobs/&lt;etag&gt;                    file contents, named by ETag (sha256 for LFS files, git sha1 otherwise)
 *     snapshots/&lt;commit&gt;/&lt;path&gt;     relative symlinks to ../../blobs/&lt;etag&gt; (one more ../ per sub-folder)
 * &lt;cache&gt;/datasets--owner--name/     the same for dataset repos
 * &lt;cache&gt;/.locks/models--owner--name/&lt;etag&gt;.lock
 * </pre>
 */
public final class HubCache {

    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** Names jround gives blobs: a sha256 (LFS) or git sha1, so a blob name is never a path. */
    private static final Pattern BLOB = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
    private static final Pattern DRIVE = Pattern.compile("[A-Za-z]:.*");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?");

    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** True for {@code name} or {@code owner/name} as the Hub accepts them (huggingface_hub's repo id rules). */
    public static boolean isRepoId(String s) {
        if (s == null || s.contains("--") || s.contains("..") || s.endsWith(".git")) {
            return false;
        }
        String[] parts = s.split("/", -1);
        if (parts.length > 2) {
            return false;
        }
        for (String p : parts) {
            if (!SEGMENT.matcher(p).matches()) {
                return false;
            }
        }
        return true;
    }

    static void requireRepoId(String repoId) {
        if (!isRepoId(repoId)) {
            throw new InvalidInputException("'" + repoId + "' is not a Hugging Face repo id",
                    "a repo id is owner/name (letters, digits, '-', '_', '.'), e.g. Qwen/Qwen3-0.6B");
        }
    }

    /** A branch, tag or commit; its '/'-separated parts become folders under refs/, so none may climb out. */
    static void requireRevision(String revision) {
        if (revision == null || revision.isEmpty() || revision.startsWith("/") || revision.contains("\\")
                || java.util.Arrays.stream(revision.split("/", -1)).anyMatch(p -> p.isEmpty() || p.equals(".") || p.equals(".."))) {
            throw new InvalidInputException("'" + revision + "' is not a revision", "give a branch, tag or commit, e.g. main");
        }
    }

    /** True for a 40-hex git commit id, the only form a server's commit may take before it names a folder. */
    public static boolean isCommit(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    /**
     * A file name the server listed: a relative '/'-separated path that cannot leave the snapshot folder (no
     * empty, "." or ".." parts, no leading '/', backslash, drive letter or control character). The Hub never
     * lists such a name; a server that does is refused before anything is written.
     */
    public static boolean isSafeFileName(String file) {
        if (file == null || file.isEmpty() || file.startsWith("/") || file.contains("\\") || DRIVE.matcher(file).matches()
                || file.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return false;
        }
        return java.util.Arrays.stream(file.split("/", -1)).noneMatch(p -> p.isEmpty() || p.equals(".") || p.equals(".."));
    }

    static void requireSafeFileName(String repoId, String file) {
        if (!isSafeFileName(file)) {
            throw new CorruptInputException("the Hub lists a file '" + printable(file) + "' in " + repoId
                    + " that is not a safe relative path; nothing was downloaded",
                    "refusing to write outside the cache: check that HF_ENDPOINT points at a Hugging Face Hub");
        }
    }

    static void requireServerCommit(String repoId, String commit) {
        if (!isCommit(commit)) {
            throw new CorruptInputException("the Hub answered for " + repoId + " with the commit id '" + printable(commit)
                    + "', which is not a 40-digit commit hash; nothing was downloaded",
                    "refusing to use it as a cache folder: check that HF_ENDPOINT points at a Hugging Face Hub");
        }
    }

    private static String printable(String s) {
        return s == null ? "" : s.codePoints().mapToObj(c -> c < 0x20 || c == 0x7f ? "?" : Character.toString(c))
                .collect(java.util.stream.Collectors.joining());
    }

    /** Fails unless {@code p} lies inside {@code dir} (lexically, after normalisation). */
    static Path requireInside(Path dir, Path p) {
        Path d = dir.toAbsolutePath().normalize();
        Path q = p.toAbsolutePath().normalize();
        if (!q.startsWith(d) || q.equals(d)) {
            throw new CorruptInputException(p + " would lie outside " + dir, "refusing to write outside the cache");
        }
        return p;
    }

    public Path repoFolder(RepoType type, String repoId) {
        requireRepoId(repoId);
        return root.resolve(type.folderName(repoId));
    }

    /** The commit a revision resolves to locally: the revision itself if it is a cached commit, else {@code refs/<revision>}. */
    public Optional<String> commit(RepoType type, String repoId, String revision) {
        Path repo = repoFolder(type, repoId);
        if (COMMIT.matcher(revision).matches() && Files.isDirectory(repo.resolve("snapshots").resolve(revision))) {
            return Optional.of(revision);
        }
        Path ref = refPath(repo, revision);
        try {
            if (Files.isRegularFile(ref)) {
                String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
                if (COMMIT.matcher(commit).matches()) {
                    return Optional.of(commit);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ref, e);
        }
        return Optional.empty();
    }

    /** The snapshot directory of a revision, if the cache has one. */
    public Optional<Path> snapshot(RepoType type, String repoId, String revision) {
        return commit(type, repoId, revision)
                .map(c -> repoFolder(type, repoId).resolve("snapshots").resolve(c))
                .filter(Files::isDirectory);
    }

    /** Model snapshot of {@code repoId} at {@code revision} ({@code main} when null). */
    public Optional<Path> findModel(String repoId, String revision) {
        return snapshot(RepoType.MODEL, repoId, revision == null ? "main" : revision);
    }

    /** Dataset snapshot of {@code repoId} at {@code revision} ({@code main} when null). */
    public Optional<Path> findDataset(String repoId, String revision) {
        return snapshot(RepoType.DATASET, repoId, revision == null ? "main" : revision);
    }

    /** {@code blobs/<name>}, for a 40- or 64-hex name (also the stem of {@code .incomplete} files). */
    Path blobPath(RepoType type, String repoId, String name) {
        requireBlobName(name);
        Path blobs = repoFolder(type, repoId).resolve("blobs");
        return requireInside(blobs, blobs.resolve(name));
    }

    Path pointerPath(RepoType type, String repoId, String commit, String file) {
        if (!isCommit(commit)) {
            throw new IllegalArgumentException("a snapshot needs a commit hash, got '" + commit + "'");
        }
        requireSafeFileName(repoId, file);
        Path snapshot = repoFolder(type, repoId).resolve("snapshots").resolve(commit);
        Path p = snapshot;
        for (String part : file.split("/")) {
            p = p.resolve(part);
        }
        return requireInside(snapshot, p);
    }

    Path lockPath(RepoType type, String repoId, String name) {
        requireBlobName(name);
        Path locks = root.resolve(".locks").resolve(type.folderName(repoId));
        return requireInside(locks, locks.resolve(name + ".lock"));
    }

    private static void requireBlobName(String name) {
        if (name == null || !BLOB.matcher(name).matches()) {
            throw new IllegalArgumentException("a blob is named by a sha256 or git sha1, got '" + name + "'");
        }
    }

    private static Path refPath(Path repo, String revision) {
        requireRevision(revision);
        Path p = repo.resolve("refs");
        for (String part : revision.split("/")) {
            p = p.resolve(part);
        }
        return p;
    }

    /** Records that {@code revision} points at {@code commit} (nothing to do when the revision is the commit). */
    void writeRef(RepoType type, String repoId, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = refPath(repoFolder(type, repoId), revision);
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
            return;
        }
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8) + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Points a snapshot file at its blob with a relative symlink; copies where the file system has no symlinks. */
    void link(Path blob, Path pointer) throws IOException {
        Files.createDirectories(pointer.getParent());
        // a folder of the snapshot that is a symlink planted elsewhere would carry the write out of the cache
        Files.createDirectories(root);
        if (!pointer.getParent().toRealPath().startsWith(root.toRealPath())) {
            throw new CorruptInputException(pointer.getParent() + " leads outside the cache " + root + " (a symbolic link?)",
                    "remove that folder from the cache and run again");
        }
        Files.deleteIfExists(pointer);
        Path target = pointer.getParent().toAbsolutePath().normalize().relativize(blob.toAbsolutePath().normalize());
        try {
            Files.createSymbolicLink(pointer, target);
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
