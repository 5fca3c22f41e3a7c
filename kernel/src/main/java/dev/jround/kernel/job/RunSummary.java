package dev.jround.kernel.job;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a run did, printed as the final table and written as {@code quantization_report.json}-style data.
 *
 * @param outputs        the finished output directories, one per format
 * @param algorithm      the block algorithm that ran
 * @param dataset        which calibration data was used (or "none")
 * @param samples        number of calibration samples used
 * @param quantized      layers quantized
 * @param skipped        linear layers kept in floating point
 * @param blocks         per-block losses and times
 * @param seconds        wall time
 * @param peakHeapBytes  peak Java heap observed
 * @param peakRssBytes   peak resident set size of the process (VmHWM), -1 if unknown
 */
public record RunSummary(List<Path> outputs, String algorithm, String dataset, int samples, int quantized, int skipped,
                         List<BlockPipeline.BlockStat> blocks, double seconds, long peakHeapBytes, long peakRssBytes) {

    /** Stage "report": what a committed run did, from the stages' outputs; {@code startNanos} from {@link System#nanoTime}. */
    static RunSummary of(Plan plan, JobCalibration calib, Export export, List<BlockPipeline.BlockStat> stats, long startNanos) {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        int skipped = (int) plan.layers().stream().filter(s -> !s.quantized()).count();
        return new RunSummary(export.outputs(), plan.choice().algorithm(), calib.description(), calib.samples().size(),
                export.quantizedCount(), skipped, stats, secs, peakHeap(), peakRss());
    }

    public void print(PrintWriter out) {
        out.println();
        out.println("== jround summary ==");
        out.printf("%-22s %s%n", "algorithm", algorithm);
        out.printf("%-22s %s (%d samples)%n", "calibration data", dataset, samples);
        out.printf("%-22s %d quantized, %d kept in floating point%n", "layers", quantized, skipped);
        if (blocks.stream().anyMatch(b -> !Double.isNaN(b.lossBefore()))) {
            out.printf("%-6s %-7s %-14s %-14s %-9s %s%n", "block", "layers", "loss (RTN)", "loss (final)", "best it", "time");
            for (BlockPipeline.BlockStat b : blocks) {
                out.printf("%-6d %-7d %-14.6g %-14.6g %-9d %.2f s%n", b.block(), b.layers(), b.lossBefore(), b.lossAfter(), b.bestIter(), b.seconds());
            }
        }
        out.printf("%-22s %.2f s%n", "wall time", seconds);
        out.printf("%-22s %.1f MB heap, %s RSS%n", "peak memory", peakHeapBytes / 1e6,
                peakRssBytes < 0 ? "?" : String.format("%.1f MB", peakRssBytes / 1e6));
        for (Path p : outputs) {
            out.printf("%-22s %s%n", "output", p);
        }
        out.flush();
    }

    static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Peak resident set size from /proc (Linux), which includes native (libtorch) memory. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: report unknown
        }
        return -1;
    }
}
