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
     * parser's source-location boilerplate (the {@code at [Source: ...; line: L, column: C]} tail JSON parsers add).
     */
    public static CorruptInputException unparsable(java.nio.file.Path file, java.io.IOException e, String hint) {
        String what = String.valueOf(e.getMessage());
        java.util.regex.Matcher at = LOCATION.matcher(what);
        if (at.find()) {
            what = what.substring(0, at.start()) + " (line " + at.group(1) + ", column " + at.group(2) + ")";
        }
        what = START_MARKER.matcher(what).replaceAll("");
        return new CorruptInputException("cannot parse " + file + ": " + what, hint, e);
    }

    private static final java.util.regex.Pattern LOCATION =
            java.util.regex.Pattern.compile("\\s*\\n at \\[Source: .*?; line: (\\d+), column: (\\d+)\\]\\s*$", java.util.regex.Pattern.DOTALL);
    private static final java.util.regex.Pattern START_MARKER =
            java.util.regex.Pattern.compile("\\s*\\(start marker at \\[Source:.*?\\]\\)", java.util.regex.Pattern.DOTALL);
}
