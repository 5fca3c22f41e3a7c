package dev.jround.spi.quant;

/**
 * What a quantized layer stores besides its dequantized weight. One variant per storage family so that an
 * exporter checks the type it can write instead of probing for nulls or string keys (issue 11, item 4).
 */
public sealed interface Payload permits IntegerGrid, GgmlBlocks, FloatElements {
}
