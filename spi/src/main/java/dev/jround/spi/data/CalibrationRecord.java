package dev.jround.spi.data;

import java.util.List;
import java.util.Map;

/**
 * One raw calibration record: plain text, a chat (list of role/content messages), or token ids
 * already tokenized. Exactly one of the three is non-null.
 */
public record CalibrationRecord(String text, List<Map<String, String>> messages, long[] tokenIds) {

    public static CalibrationRecord ofText(String t) {
        return new CalibrationRecord(t, null, null);
    }

    public static CalibrationRecord ofTokens(long[] ids) {
        return new CalibrationRecord(null, null, ids);
    }

    public static CalibrationRecord ofMessages(List<Map<String, String>> m) {
        return new CalibrationRecord(null, m, null);
    }
}
