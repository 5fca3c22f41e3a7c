package dev.jround.plugin.gguf;

import dev.jround.plugin.arch.llama.LlamaFamilyArchitecture;
import dev.jround.plugin.arch.opt.OptArchitecture;
import dev.jround.spi.model.ModelArchitecture;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.model.TensorLayout;

import java.util.List;

/** The tensor layout the installed architecture plugins declare for a config, as the kernel hands it to exporters. */
final class Layouts {

    private static final List<ModelArchitecture> ARCHITECTURES = List.of(new LlamaFamilyArchitecture(), new OptArchitecture());

    private Layouts() {
    }

    static TensorLayout of(ModelConfig config) {
        for (ModelArchitecture a : ARCHITECTURES) {
            if (a.supports(config)) {
                return a.tensorLayout(config).orElseThrow();
            }
        }
        throw new IllegalArgumentException("no architecture plugin for model_type " + config.modelType());
    }
}
