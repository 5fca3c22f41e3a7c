package dev.jround.spi;

/** A well-formed request that no installed plugin can serve (unknown architecture, format, scheme ...). Exit code 2. */
public class UnsupportedFeatureException extends JroundException {

    public UnsupportedFeatureException(String message, String hint) {
        super(message, hint);
    }

    @Override
    public int exitCode() {
        return 2;
    }
}
