package dev.jround.spi;

/** The extension points of jround; one per SPI interface. */
public enum PluginKind {
    ARCHITECTURE("architecture"),
    DATASET("dataset"),
    DATA_TYPE("data-type"),
    SCHEME("scheme"),
    ALGORITHM("algorithm"),
    DEVICE("device"),
    EXPORTER("exporter"),
    INFERENCE("inference"),
    TOKENIZER("tokenizer"),
    OTHER("other");

    private final String label;

    PluginKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
