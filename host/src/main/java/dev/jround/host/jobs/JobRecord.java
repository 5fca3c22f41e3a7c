package dev.jround.host.jobs;

import java.util.List;
import java.util.Map;

/**
 * One job as the queue stores it.
 *
 * @param args       the CLI's quantize flags, as submitted
 * @param outputDir  the request's --output_dir, absolute
 * @param outputs    the finished output directories (empty until the job succeeded)
 * @param block      blocks finished so far
 * @param blocks     blocks of the model (0 until the model is open)
 * @param plugins    plugin id to version the job runs with (empty until it started)
 * @param worker     the host that runs or ran it
 * @param createdMs  epoch milliseconds; {@code startedMs} and {@code finishedMs} are 0 until then
 */
public record JobRecord(String id, long seq, JobState state, List<String> args, String outputDir, List<String> outputs,
                        int block, int blocks, String message, Map<String, String> plugins, String worker,
                        long createdMs, long startedMs, long finishedMs, boolean cancelRequested) {
}
