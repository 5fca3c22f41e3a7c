package dev.jround.it.output;

import dev.jround.it.FileHashes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the real CLI ({@code dev.jround.cli.JroundCli}) in a child JVM on the test class path, like bin/jround does. */
final class ChildCli {

    private ChildCli() {
    }

    /** Starts {@code jround args...} in {@code workDir} with extra JVM {@code -D} options; output goes to {@code log}. */
    static Process start(Path workDir, Path log, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the same offline, single-thread settings the surefire fork runs with (pom.xml)
        cmd.addAll(List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.jround.cli.JroundCli"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    static Map<String, String> tree(Path dir) throws IOException {
        return FileHashes.tree(dir);
    }

    static String sha256(Path file) throws IOException {
        return FileHashes.sha256(file);
    }
}
