package dev.jround.kernel.config;

import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.List;
import java.util.Locale;

/** The {@code --print_config} dump: one line per linear layer with its resolved scheme and why. */
public final class ConfigTable {

    private ConfigTable() {
    }

    public static String render(List<LayerSpec> layers) {
        int nameWidth = "layer".length();
        for (LayerSpec l : layers) {
            nameWidth = Math.max(nameWidth, l.name().length());
        }
        String fmt = "%-" + nameWidth + "s  %11s  %4s  %5s  %-4s  %-5s  %-5s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, fmt, "layer", "out x in", "bits", "group", "sym", "dtype", "scale", "source"));
        int quantized = 0;
        for (LayerSpec l : layers) {
            QuantScheme s = l.scheme();
            boolean q = l.quantized();
            quantized += q ? 1 : 0;
            sb.append(String.format(Locale.ROOT, fmt, l.name(), l.outFeatures() + " x " + l.inFeatures(), s.bits(),
                    q ? String.valueOf(s.groupSize()) : "-", q ? (s.sym() ? "sym" : "asym") : "-", s.dataType(),
                    q ? s.scaleDtype() : "-", l.reason() + (l.fixedByUser() ? " (fixed)" : "")));
        }
        sb.append(String.format(Locale.ROOT, "%d of %d linear layers quantized%n", quantized, layers.size()));
        return sb.toString();
    }
}
