package dev.jround.kernel.registry;

import java.util.Comparator;

/** Orders semantic versions numerically ("1.10.0" &gt; "1.9.2"); qualifiers sort before the release. */
public final class VersionOrder implements Comparator<String> {

    public static final VersionOrder INSTANCE = new VersionOrder();

    @Override
    public int compare(String a, String b) {
        String[] pa = a.split("[.-]");
        String[] pb = b.split("[.-]");
        for (int i = 0; i < Math.max(pa.length, pb.length); i++) {
            String x = i < pa.length ? pa[i] : "";
            String y = i < pb.length ? pb[i] : "";
            boolean nx = x.matches("\\d+");
            boolean ny = y.matches("\\d+");
            int c;
            if (nx && ny) {
                c = Long.compare(Long.parseLong(x), Long.parseLong(y));
            } else if (x.isEmpty() || y.isEmpty()) {
                // "1.0.0" beats "1.0.0-SNAPSHOT"; "1.0.1" beats "1.0"
                c = x.isEmpty() ? (ny ? -1 : 1) : (nx ? 1 : -1);
            } else {
                c = x.compareTo(y);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
