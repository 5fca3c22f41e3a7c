package dev.jround.spi;

/** Bad input from the user: a flag, a file, a spec string, a config entry. Exit code 2. */
public class InvalidInputException extends JroundException {

    public InvalidInputException(String message, String hint) {
        super(message, hint);
    }

    public InvalidInputException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }

    @Override
    public int exitCode() {
        return 2;
    }
}
