package dev.jround.spi;

/** A file exists but its content is not what its format promises (bad header, offsets out of range ...). */
public class CorruptInputException extends JroundException {

    public CorruptInputException(String message, String hint) {
        super(message, hint);
    }

    public CorruptInputException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }

    /**
     * A JSON file that does not parse, described by the parser's own words and the line and column, without the
     * parser's source-location boilerplate.
     */
    public static CorruptInputException unparsable(java.nio.file.Path file, java.io.IOException e, String hint) {
        String what = e.getMessage();
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
            what = j.getOriginalMessage().replaceAll("\\s*\\(start marker at \\[Source:.*?\\]\\)", "");
            if (j.getLocation() != null) {
                what += " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")";
            }
        }
        return new CorruptInputException("cannot parse " + file + ": " + what, hint, e);
    }
}
