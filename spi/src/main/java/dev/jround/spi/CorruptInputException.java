package dev.jround.spi;

/** A file exists but its content is not what its format promises (bad header, offsets out of range ...). */
public class CorruptInputException extends JroundException {

    public CorruptInputException(String message, String hint) {
        super(message, hint);
    }

    public CorruptInputException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }
}
