package dev.jround.host.jobs;

import java.util.Locale;
import java.util.Map;

/** {@code GET /metrics} in the Prometheus text format (version 0.0.4). */
public final class HostMetrics {

    private HostMetrics() {
    }

    public static String render(JobService jobs) {
        StringBuilder out = new StringBuilder();
        Map<JobState, Long> counts = jobs.store().countByState();
        out.append("# HELP jround_jobs Jobs in the queue by state.\n# TYPE jround_jobs gauge\n");
        for (var e : counts.entrySet()) {
            out.append("jround_jobs{state=\"").append(e.getKey().label()).append("\"} ").append(e.getValue()).append('\n');
        }
        out.append("# HELP jround_queue_length Jobs waiting to run.\n# TYPE jround_queue_length gauge\n");
        out.append("jround_queue_length ").append(counts.get(JobState.QUEUED)).append('\n');
        out.append("# HELP jround_jobs_running_here Jobs this host is running.\n# TYPE jround_jobs_running_here gauge\n");
        out.append("jround_jobs_running_here ").append(jobs.runningHere()).append('\n');
        out.append("# HELP jround_block_seconds Time per quantized block on this host.\n# TYPE jround_block_seconds histogram\n");
        long[] counted = jobs.blockSecondsCounts();
        long cumulative = 0;
        for (int i = 0; i < JobService.BLOCK_SECONDS_BUCKETS.length; i++) {
            cumulative += counted[i];
            out.append("jround_block_seconds_bucket{le=\"").append(number(JobService.BLOCK_SECONDS_BUCKETS[i]))
                    .append("\"} ").append(cumulative).append('\n');
        }
        cumulative += counted[counted.length - 1];
        out.append("jround_block_seconds_bucket{le=\"+Inf\"} ").append(cumulative).append('\n');
        out.append("jround_block_seconds_sum ").append(String.format(Locale.ROOT, "%.6f", jobs.blockSecondsSum())).append('\n');
        out.append("jround_block_seconds_count ").append(cumulative).append('\n');
        return out.toString();
    }

    private static String number(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
