package dev.jround.spi.data;

import dev.jround.spi.JroundPlugin;

import java.nio.file.Path;

/** Loads the tokenizer of a model directory. */
public interface TokenizerProvider extends JroundPlugin {

    boolean canLoad(Path modelDir);

    Tokenizer load(Path modelDir);
}
