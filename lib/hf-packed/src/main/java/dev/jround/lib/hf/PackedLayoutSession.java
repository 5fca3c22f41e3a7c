package dev.jround.lib.hf;

import dev.jround.spi.export.ExportContext;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.HostTensor;

import java.util.Map;
import java.util.Objects;

/**
 * An {@link HfExportSession} whose quantized layers all go through one {@link PackedLayout} (the GPTQ, AWQ and
 * auto_round checkpoints): zero points are range-checked against that layout before packing, and biases are
 * stored in fp16, the only bias type the packed kernels read. Subclass constructors call
 * {@link #packWith} once, after they have chosen the layout.
 */
public abstract class PackedLayoutSession extends HfExportSession {

    private PackedLayout layout;
    private boolean withGIdx;
    private String formatLabel;

    protected PackedLayoutSession(ExportContext ctx) {
        super(ctx);
    }

    /**
     * Sets the layout every quantized layer is packed with, whether packed layers carry {@code g_idx}, and the
     * format named in zero-point range errors.
     */
    protected final void packWith(PackedLayout layout, boolean withGIdx, String formatLabel) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.withGIdx = withGIdx;
        this.formatLabel = Objects.requireNonNull(formatLabel, "formatLabel");
    }

    /** The layout chosen with {@link #packWith}. */
    protected final PackedLayout layout() {
        if (layout == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " did not call packWith in its constructor");
        }
        return layout;
    }

    @Override
    protected void check(QuantizedLayer layer) {
        checkRanges(layer, layout().minZero(), layout().maxZero(layer.bits()), formatLabel);
    }

    @Override
    protected Map<String, HostTensor> packLayer(QuantizedLayer layer) {
        return layout().pack(layer, withGIdx);
    }

    @Override
    protected HostTensor biasTensor(String module, float[] bias) {
        return HostTensor.ofFloats(bias, DType.F16, bias.length);
    }
}
