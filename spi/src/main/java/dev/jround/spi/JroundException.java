package dev.jround.spi;

/**
 * Root of every user-facing error: a one-line message naming what is wrong, and a hint naming what
 * would be valid. The CLI prints {@code error: <message>} and, if present, {@code hint: <hint>} with no
 * stack trace unless {@code --verbose}.
 */
public class JroundException extends RuntimeException {

    private final String hint;

    public JroundException(String message) {
        this(message, null, null);
    }

    public JroundException(String message, String hint) {
        this(message, hint, null);
    }

    public JroundException(String message, String hint, Throwable cause) {
        super(message, cause);
        this.hint = hint;
    }

    /** What would be valid instead, or {@code null}. */
    public String hint() {
        return hint;
    }

    /** Process exit code the CLI uses for this error (2 = usage / configuration, 1 = run-time failure). */
    public int exitCode() {
        return 1;
    }
}
