package dev.jround.host.jobs;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.spi.JroundPlugin;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.QuantDataType;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A job's frozen registry: later changes of the live one do not reach it; the versions it reports. */
class RegistrySnapshotTest {

    @SuppressWarnings("unchecked")
    static <T extends JroundPlugin> T plugin(Class<T> type, PluginKind kind, String id, String version) {
        PluginDescriptor d = new PluginDescriptor(kind, id, version, "test", Map.of());
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[]{type}, (proxy, m, args) -> switch (m.getName()) {
            case "descriptor" -> d;
            case "toString" -> id + " " + version;
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> throw new UnsupportedOperationException(m.getName());
        });
    }

    /** A live registry whose exporter list a test can change. */
    static final class Live implements PluginRegistry {
        final List<Exporter> exporters = new ArrayList<>();
        final List<QuantDataType> types = new ArrayList<>();

        @Override
        @SuppressWarnings("unchecked")
        public <T extends JroundPlugin> List<T> all(Class<T> type) {
            return type == Exporter.class ? (List<T>) List.copyOf(exporters) : type == QuantDataType.class ? (List<T>) List.copyOf(types) : List.of();
        }

        @Override
        public List<Entry> entries() {
            return List.of();
        }
    }

    @Test
    void aSnapshotKeepsWhatItStartedWith() {
        Live live = new Live();
        Exporter v1 = plugin(Exporter.class, PluginKind.EXPORTER, "gguf", "1.0.0");
        live.exporters.add(v1);
        live.types.add(plugin(QuantDataType.class, PluginKind.DATA_TYPE, "gguf", "1.0.0"));
        RegistrySnapshot job = RegistrySnapshot.of(live);
        live.exporters.set(0, plugin(Exporter.class, PluginKind.EXPORTER, "gguf", "2.0.0"));
        assertSame(v1, job.find(Exporter.class, "gguf").orElseThrow());
        assertEquals(Map.of("gguf", "1.0.0"), job.versions(), "one id, one version: keyed by id");
        assertEquals(Map.of("exporter/gguf", "2.0.0", "data-type/gguf", "1.0.0"), RegistrySnapshot.of(live).versions(),
                "one id, two versions: keyed by kind and id");
    }
}
