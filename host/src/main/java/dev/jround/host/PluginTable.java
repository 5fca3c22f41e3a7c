package dev.jround.host;

import dev.jround.kernel.registry.PluginRegistry;

import java.util.Comparator;
import java.util.List;

/** The plugin table the host prints: kind, id, version, source bundle, description. */
final class PluginTable {

    private PluginTable() {
    }

    static String render(List<PluginRegistry.Entry> entries) {
        List<PluginRegistry.Entry> sorted = entries.stream()
                .sorted(Comparator.comparing((PluginRegistry.Entry e) -> e.descriptor().kind().ordinal())
                        .thenComparing(e -> e.descriptor().id())
                        .thenComparing(e -> e.descriptor().version()))
                .toList();
        String fmt = "%-13s %-24s %-9s %-52s %s%n";
        StringBuilder out = new StringBuilder();
        out.append(String.format(fmt, "KIND", "ID", "VERSION", "SOURCE", "DESCRIPTION"));
        for (PluginRegistry.Entry e : sorted) {
            var d = e.descriptor();
            out.append(String.format(fmt, d.kind().label(), d.id() + (e.active() ? "" : " (shadowed)"), d.version(),
                    e.source(), d.description()));
        }
        out.append(sorted.size()).append(" plugins\n");
        return out.toString();
    }
}
