package dev.jround.spi.quant;

/**
 * Tensor data already encoded as ggml blocks, as the GGUF data type evaluated it during tuning; a GGUF
 * exporter writes these bytes when its mix asks for the same type.
 *
 * @param type   the ggml type name ({@code Q4_K}, {@code Q8_0}, {@code F16} ...)
 * @param blocks the encoded row-major tensor data
 */
public record GgmlBlocks(String type, byte[] blocks) implements Payload {

    public GgmlBlocks {
        if (type == null || blocks == null) {
            throw new IllegalArgumentException("ggml blocks need a type and their bytes");
        }
    }
}
