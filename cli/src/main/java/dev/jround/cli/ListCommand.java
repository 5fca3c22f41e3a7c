package dev.jround.cli;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jround list format}: every export format with the schemes it accepts (as AutoRound's
 * {@code auto_round list format}); {@code jround list scheme}: every named scheme preset.
 */
@Command(name = "list", description = "List export formats (with the schemes each supports) or scheme presets.")
public final class ListCommand implements Callable<Integer> {

    /** What to list; picocli rejects anything else with exit code 2. */
    enum Topic { format, scheme }

    @Parameters(index = "0", paramLabel = "WHAT", description = "format | scheme")
    Topic topic;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (topic == Topic.format) {
            printFormats(JroundCli.registry(), out);
        } else {
            printSchemes(JroundCli.registry(), out);
        }
        out.flush();
        return 0;
    }

    static void printFormats(PluginRegistry registry, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        for (Exporter exporter : registry.all(Exporter.class)) {
            for (String format : exporter.formats()) {
                rows.add(new String[]{format, exporter.supportedSchemes(format), pluginLabel(exporter.descriptor())});
            }
        }
        if (rows.isEmpty()) {
            out.println("no export formats installed (exporter plugins go into the plugins/ directory)");
            return;
        }
        rows.sort(Comparator.comparing(r -> r[0]));
        int width = Math.max("FORMAT".length(), rows.stream().mapToInt(r -> r[0].length()).max().orElse(0));
        String fmt = "%-" + width + "s  %s  [%s]%n";
        out.printf("%-" + width + "s  %s  [%s]%n", "FORMAT", "SUPPORTED SCHEMES", "PLUGIN");
        for (String[] r : rows) {
            out.printf(fmt, r[0], r[1], r[2]);
        }
    }

    static void printSchemes(PluginRegistry registry, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        for (SchemePreset preset : registry.all(SchemePreset.class)) {
            String plugin = pluginLabel(preset.descriptor());
            preset.presets().forEach((name, s) -> rows.add(new String[]{name, Integer.toString(s.bits()),
                    groupLabel(s), s.sym() ? "sym" : "asym", s.dataType(), Integer.toString(s.actBits()), activationLabel(s), plugin}));
        }
        if (rows.isEmpty()) {
            out.println("no scheme presets installed (data-type plugins go into the plugins/ directory)");
            return;
        }
        rows.sort(Comparator.comparing((String[] r) -> r[0]).thenComparing(r -> r[7]));
        int width = Math.max("SCHEME".length(), rows.stream().mapToInt(r -> r[0].length()).max().orElse(0));
        int actWidth = Math.max("ACTIVATIONS".length(), rows.stream().mapToInt(r -> r[6].length()).max().orElse(0));
        int typeWidth = Math.max("DATA TYPE".length(), rows.stream().mapToInt(r -> r[4].length()).max().orElse(0));
        String fmt = "%-" + width + "s  %4s  %-10s  %-4s  %-" + typeWidth + "s  %8s  %-" + actWidth + "s  [%s]%n";
        out.printf(fmt, "SCHEME", "BITS", "GROUP", "SYM", "DATA TYPE", "ACT BITS", "ACTIVATIONS", "PLUGIN");
        for (String[] r : rows) {
            out.printf(fmt, (Object[]) r);
        }
    }

    /** The activation arguments of a scheme that quantizes activations ("-" otherwise): group, symmetry, type, dynamics. */
    static String activationLabel(QuantScheme s) {
        if (!s.activations().quantized()) {
            return "-";
        }
        int g = s.actGroupSize();
        String group = g > 0 ? "group " + g : g == 0 ? "tensor" : "token";
        return group + " " + (s.actSym() ? "sym" : "asym") + " " + s.actDataType() + " " + (s.actDynamic() ? "dynamic" : "static");
    }

    static String groupLabel(QuantScheme s) {
        if (s.weights().blockRows() > 0) {
            return s.weights().blockRows() + "x" + s.groupSize();
        }
        if (s.groupSize() > 0) {
            return Integer.toString(s.groupSize());
        }
        return s.groupSize() == 0 ? "tensor" : "channel";
    }

    private static String pluginLabel(PluginDescriptor d) {
        return d.id() + " " + d.version();
    }
}
