package dev.jround.kernel.registry;

import dev.jround.spi.JroundPlugin;
import dev.jround.spi.data.DatasetProvider;
import dev.jround.spi.data.TokenizerProvider;
import dev.jround.spi.device.DeviceBackend;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.inference.InferenceBackend;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantDataType;
import dev.jround.spi.quant.SchemePreset;

import java.util.List;

/** The extension-point interfaces the kernel discovers. */
public final class Spis {

    public static final List<Class<? extends JroundPlugin>> ALL = List.of(
            ModelArchitecture.class, DatasetProvider.class, TokenizerProvider.class, QuantDataType.class,
            SchemePreset.class, QuantAlgorithm.class, DeviceBackend.class, Exporter.class, InferenceBackend.class);

    private Spis() {
    }
}
