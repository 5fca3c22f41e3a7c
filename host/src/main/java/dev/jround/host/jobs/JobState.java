package dev.jround.host.jobs;

import java.util.Locale;

/** The states of a job in the queue; the last three are final. */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public static JobState of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
