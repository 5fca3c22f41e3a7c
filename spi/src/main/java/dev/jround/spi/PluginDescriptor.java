package dev.jround.spi;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a plugin says about itself.
 *
 * @param kind        the extension point it implements
 * @param id          stable identifier, unique per kind (e.g. {@code llama}, {@code auto_gptq}, {@code signround})
 * @param version     the plugin's own semantic version (independent of the kernel's)
 * @param description one human sentence
 * @param supports    capability lists, e.g. {@code "formats" -> [auto_gptq]}, {@code "schemes" -> [W4A16, ...]}
 */
public record PluginDescriptor(PluginKind kind, String id, String version, String description,
                               Map<String, List<String>> supports) {

    public PluginDescriptor {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(version, "version");
        description = description == null ? "" : description;
        supports = supports == null ? Map.of() : Map.copyOf(supports);
    }

    public static PluginDescriptor of(PluginKind kind, String id, String version, String description) {
        return new PluginDescriptor(kind, id, version, description, Map.of());
    }

    /** Version read from the plugin jar's manifest (Bundle-Version / Implementation-Version), else the fallback. */
    public static String versionOf(Class<?> pluginClass, String fallback) {
        Package p = pluginClass.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null || v.isBlank() ? fallback : v;
    }
}
