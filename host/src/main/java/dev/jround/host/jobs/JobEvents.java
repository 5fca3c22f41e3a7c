package dev.jround.host.jobs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The events of one job in this host process, for {@code GET /v1/jobs/{id}/events}: a bounded buffer (the latest
 * {@value #CAPACITY}, so a long run cannot grow memory) that readers wait on. Closed when the job reached a final
 * state; a reader then gets what is buffered and the end of the stream.
 */
public final class JobEvents {

    static final int CAPACITY = 2000;

    /** One event: a sequence number (the SSE id), a type ({@code state}, {@code log}, ...) and its JSON fields. */
    public record Event(long seq, String type, Map<String, Object> data) {
    }

    private final Deque<Event> buffer = new ArrayDeque<>();
    private long next = 1;
    private boolean closed;

    public synchronized void publish(String type, Map<String, Object> data) {
        if (closed) {
            return;
        }
        buffer.addLast(new Event(next++, type, data));
        while (buffer.size() > CAPACITY) {
            buffer.removeFirst();
        }
        notifyAll();
    }

    /** The last event; nothing more is published. */
    public synchronized void close(String type, Map<String, Object> data) {
        publish(type, data);
        closed = true;
        notifyAll();
    }

    public synchronized boolean closed() {
        return closed;
    }

    /**
     * Events after {@code afterSeq}, waiting up to {@code waitMs} when there are none yet; empty when the wait
     * ended without news (or the log is closed and fully read: see {@link #closed()}).
     */
    public synchronized List<Event> after(long afterSeq, long waitMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMs;
        while (!closed && (buffer.isEmpty() || buffer.peekLast().seq() <= afterSeq)) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return List.of();
            }
            wait(left);
        }
        List<Event> out = new ArrayList<>();
        for (Event e : buffer) {
            if (e.seq() > afterSeq) {
                out.add(e);
            }
        }
        return out;
    }
}
