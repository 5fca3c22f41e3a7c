package dev.jround.cli;

import dev.jround.spi.quant.SchemePreset;
import dev.jround.kernel.config.PresetCatalog;
import dev.jround.kernel.registry.PluginRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jround plugins}: every installed plugin with kind, id, version and source jar. */
@Command(name = "plugins", description = "List installed plugins (kind, id, version, source jar).")
public final class PluginsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<PluginRegistry.Entry> entries = JroundCli.registry().entries().stream()
                .sorted(Comparator.comparing((PluginRegistry.Entry e) -> e.descriptor().kind().ordinal())
                        .thenComparing(e -> e.descriptor().id()))
                .toList();
        String fmt = "%-13s %-22s %-9s %-48s %s%n";
        out.printf(fmt, "KIND", "ID", "VERSION", "SOURCE", "DESCRIPTION");
        for (PluginRegistry.Entry e : entries) {
            var d = e.descriptor();
            out.printf(fmt, d.kind().label(), d.id() + (e.active() ? "" : " (shadowed)"), d.version(), e.source(), d.description());
        }
        out.printf("%d plugins%n", entries.size());
        PresetCatalog.of(JroundCli.registry().all(SchemePreset.class)).clashes().forEach((name, ids) ->
                out.printf("warning: scheme %s is declared by %s; runs naming it are refused until one is removed%n",
                        name, String.join(" and ", ids)));
        return 0;
    }
}
