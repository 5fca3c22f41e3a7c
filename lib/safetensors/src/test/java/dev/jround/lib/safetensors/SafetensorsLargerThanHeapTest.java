package dev.jround.lib.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint several times larger than the heap is read through memory mapping in a -Xmx64m child JVM. */
class SafetensorsLargerThanHeapTest {

    private static final int TENSORS = 30;
    private static final int CHUNK_FLOATS = 1 << 18;      // 1 MiB of float32
    private static final int CHUNKS_PER_TENSOR = 10;      // 10 MiB per tensor, 300 MiB in all

    @TempDir
    Path dir;

    @Test
    void childWithSmallHeapReadsEveryTensor() throws IOException, InterruptedException {
        Path file = dir.resolve("model.safetensors");
        long tensorBytes = 4L * CHUNK_FLOATS * CHUNKS_PER_TENSOR;
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        for (int t = 0; t < TENSORS; t++) {
            header.append(String.format(",\"model.layers.%02d.weight\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]}",
                    t, CHUNKS_PER_TENSOR * 256, 1024, t * tensorBytes, (t + 1) * tensorBytes));
        }
        header.append('}');
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        double expected = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json).flip();
            while (head.hasRemaining()) {
                ch.write(head);
            }
            ByteBuffer chunk = ByteBuffer.allocateDirect(4 * CHUNK_FLOATS).order(ByteOrder.LITTLE_ENDIAN);
            for (int t = 0; t < TENSORS; t++) {
                chunk.clear();
                for (int i = 0; i < CHUNK_FLOATS; i++) {
                    chunk.putFloat((t + 1) * 0.5f + (i & 7));   // small integers and halves: the sums are exact
                }
                double chunkSum = 0;
                for (int i = 0; i < CHUNK_FLOATS; i++) {
                    chunkSum += (t + 1) * 0.5f + (i & 7);
                }
                for (int c = 0; c < CHUNKS_PER_TENSOR; c++) {
                    chunk.flip();
                    while (chunk.hasRemaining()) {
                        ch.write(chunk);
                    }
                    chunk.position(chunk.limit());
                    expected += chunkSum;
                }
            }
        }
        assertTrue(Files.size(file) > 300_000_000L);

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx64m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                HeapLimitedChecksum.class.getName(), file.toString(), Double.toString(expected))
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), "child output: " + output);
        assertTrue(output.contains("tensors=" + TENSORS), output);
    }
}
