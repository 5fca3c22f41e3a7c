package dev.jround.lib.safetensors;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-process entry point of {@link SafetensorsLargerThanHeapTest}: opens a checkpoint bigger than this
 * JVM's heap, sums every float32 element of every tensor and exits 0 if the sum is the expected one.
 * Exit codes: 0 ok, 3 wrong sum, 4 the heap is not smaller than the file (the test would prove nothing).
 */
public final class HeapLimitedChecksum {

    private HeapLimitedChecksum() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        double expected = Double.parseDouble(args[1]);
        long heap = Runtime.getRuntime().maxMemory();
        if (heap >= Files.size(file)) {
            System.err.println("heap " + heap + " is not smaller than " + Files.size(file));
            System.exit(4);
        }
        double total = 0;
        int tensors = 0;
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file.getParent())) {
            for (String name : c.names()) {
                FloatBuffer values = c.get(name).data().asFloatBuffer();
                double sum = 0;
                while (values.hasRemaining()) {
                    sum += values.get();
                }
                total += sum;
                tensors++;
            }
        }
        System.out.println("tensors=" + tensors + " sum=" + total + " heap=" + heap);
        System.exit(total == expected ? 0 : 3);
    }
}
