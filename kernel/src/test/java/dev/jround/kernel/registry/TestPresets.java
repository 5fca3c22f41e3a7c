package dev.jround.kernel.registry;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.SchemePreset;

import java.util.Map;

/** Scheme-preset plugins with fixed ids and versions, for discovery and duplicate-resolution tests. */
abstract class TestPresets implements SchemePreset {

    private final String id;
    private final String version;

    TestPresets(String id, String version) {
        this.id = id;
        this.version = version;
    }

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(PluginKind.SCHEME, id, version, "test presets " + id + " " + version);
    }

    @Override
    public Map<String, QuantScheme> presets() {
        return Map.of("W4A16", QuantScheme.intWeightOnly(4, 128, true));
    }

    public static final class Alpha100 extends TestPresets {
        public Alpha100() {
            super("alpha", "1.0.0");
        }
    }

    public static final class Alpha120 extends TestPresets {
        public Alpha120() {
            super("Alpha", "1.2.0");
        }
    }

    public static final class Alpha110 extends TestPresets {
        public Alpha110() {
            super("alpha", "1.1.0");
        }
    }

    public static final class Beta extends TestPresets {
        public Beta() {
            super("beta", "0.3.0");
        }
    }

    /** A provider whose constructor fails, as a plugin with a missing dependency would. */
    public static final class Broken extends TestPresets {
        public Broken() {
            super("broken", "1.0.0");
            throw new IllegalStateException("cannot initialise");
        }
    }
}
