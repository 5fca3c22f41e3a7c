package dev.jround.plugin.example;

import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The example third-party plugin: an exporter for {@code example_npz}, one NumPy {@code .npz} archive
 * holding every quantized layer as integer codes, scales and zero points, plus every other tensor as
 * it is. {@code numpy.load("model.npz")} reads it; {@code example_npz.json} next to it names the layers.
 *
 * <p>It depends on {@code jround-spi} only and is registered in
 * {@code META-INF/services/dev.jround.spi.export.Exporter}; the build turns that file into OSGi
 * capabilities, so the same jar works on the CLI's class path and in the OSGi host.
 */
public final class NpzExporter implements Exporter {

    public static final String FORMAT = "example_npz";

    @Override
    public PluginDescriptor descriptor() {
        return new PluginDescriptor(PluginKind.EXPORTER, FORMAT, version(),
                "Example third-party plugin: quantized codes, scales and zeros in one NumPy .npz",
                Map.of("formats", formats()));
    }

    /** This jar's own version (from its manifest), written into every archive it produces. */
    static String version() {
        return PluginDescriptor.versionOf(NpzExporter.class, "1.0.0");
    }

    @Override
    public List<String> formats() {
        return List.of(FORMAT);
    }

    @Override
    public String supportedSchemes(String format) {
        return "int weights, 2-8 bits, any group size, sym or asym";
    }

    @Override
    public Optional<String> refusal(String format, LayerSpec layer) {
        QuantScheme scheme = layer.scheme();
        if (!scheme.quantizesWeights()) {
            return Optional.empty();
        }
        if (!"int".equals(scheme.dataType())) {
            return Optional.of(FORMAT + " stores integer codes only; layer " + layer.name() + " uses data type "
                    + scheme.dataType());
        }
        if (scheme.bits() < 2 || scheme.bits() > 8) {
            return Optional.of(FORMAT + " stores 2-8 bit codes; layer " + layer.name() + " has " + scheme.bits() + " bits");
        }
        return Optional.empty();
    }

    @Override
    public ExportSession open(ExportContext context) {
        return new NpzExportSession(context, version());
    }
}
