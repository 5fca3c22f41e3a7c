package dev.jround.spi.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jround.spi.quant.FloatElements.ElementFormat;
import dev.jround.spi.quant.FloatElements.ScaleFormat;
import dev.jround.spi.quant.QuantizationArgs.NumberType;
import dev.jround.spi.quant.QuantizationArgs.ScaleType;
import dev.jround.spi.quant.QuantizationArgs.Strategy;
import org.junit.jupiter.api.Test;

class PayloadTest {

    @Test
    void fp4ElementsPackTwoPerByteLowNibbleFirst() {
        // 2x4 elements, groups of 4 along a row (two E8M0 scales): 4 bytes
        byte[] e = {(byte) 0x21, (byte) 0x43, (byte) 0x65, (byte) 0xF7};
        FloatElements f = new FloatElements(ElementFormat.FP4_E2M1, 2, 4, e, ScaleFormat.E8M0, 1, 4,
                new float[]{0.5f, 2f}, 1f);
        assertEquals(1, f.element(0));
        assertEquals(2, f.element(1));
        assertEquals(7, f.element(6));
        assertEquals(15, f.element(7));
        assertEquals(0.5f, f.scaleOf(0, 3));
        assertEquals(2f, f.scaleOf(1, 0));
        assertEquals(-6f * 2f, f.value(1, 3));
        assertEquals(0.5f * 0.5f, f.value(0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> f.element(8));
    }

    @Test
    void fp8ElementsAreOneBytePerElement() {
        FloatElements f = new FloatElements(ElementFormat.FP8_E4M3, 1, 2, new byte[]{(byte) 0x80, 0x7E}, ScaleFormat.FP32,
                1, 2, new float[]{1f}, 1f);
        assertEquals(0x80, f.element(0));
        assertEquals(0x7E, f.element(1));
        assertEquals(448f, f.value(0, 1));
    }

    @Test
    void elementFormatsDecodeTheirCodes() {
        assertEquals(6f, ElementFormat.FP4_E2M1.decode(7));
        assertEquals(-0.5f, ElementFormat.FP4_E2M1.decode(9));
        assertEquals(0x1p-9f, ElementFormat.FP8_E4M3.decode(1), "E4M3 smallest subnormal");
        assertTrue(Float.isNaN(ElementFormat.FP8_E4M3.decode(0xFF)));
        assertEquals(57344f, ElementFormat.FP8_E5M2.decode(0x7B));
        assertEquals(-1.75f, ElementFormat.INT4.decode(9), "MXINT4 -7/4");
        assertEquals(0.25f, ElementFormat.INT4.decode(1));
    }

    @Test
    void blockScalesCoverPartialEdgeBlocks() {
        // 3x5 weight in 2x4 blocks: a 2x2 scale grid
        FloatElements f = new FloatElements(ElementFormat.FP8_E4M3, 3, 5, new byte[15], ScaleFormat.FP32, 2, 4,
                new float[]{1f, 2f, 3f, 4f}, 1f);
        assertEquals(2f, f.scaleOf(1, 4));
        assertEquals(3f, f.scaleOf(2, 0));
        assertEquals(2, f.scaleRows());
        FloatElements nv = new FloatElements(ElementFormat.FP4_E2M1, 1, 2, new byte[]{0x07}, ScaleFormat.FP8_E4M3, 1, 2,
                new float[]{448f}, 2688f);
        assertEquals(448f * 6f / 2688f, nv.value(0, 0));
    }

    @Test
    void floatElementsRefuseInconsistentSizes() {
        assertThrows(IllegalArgumentException.class, () -> new FloatElements(ElementFormat.FP4_E2M1, 2, 4, new byte[3],
                ScaleFormat.E8M0, 1, 4, new float[2], 1f), "element bytes");
        assertThrows(IllegalArgumentException.class, () -> new FloatElements(ElementFormat.FP4_E2M1, 2, 4, new byte[4],
                ScaleFormat.E8M0, 1, 4, new float[3], 1f), "scale count");
        assertThrows(IllegalArgumentException.class, () -> new FloatElements(ElementFormat.FP8_E5M2, 1, 4, new byte[4],
                ScaleFormat.E8M0, 1, 0, new float[1], 1f), "positive block");
        assertThrows(IllegalArgumentException.class, () -> new FloatElements(ElementFormat.FP8_E5M2, 1, 4, new byte[4],
                ScaleFormat.E8M0, 1, 4, new float[1], 0f), "positive global scale");
    }

    @Test
    void layerExposesItsPayloadTypeAndImportance() {
        LayerSpec spec = new LayerSpec("m.q", 4, 2, QuantScheme.intWeightOnly(4, 2, true), 0, false, "t");
        QuantizedLayer grid = QuantizedLayer.ofGrid(spec, 2, new int[8], new float[4], new int[4], new float[8], null);
        assertEquals(2, grid.groupsPerRow());
        assertTrue(grid.importance().isEmpty());
        assertEquals(4, grid.withImportance(new float[4]).importance().orElseThrow().length);
        QuantizedLayer blocks = new QuantizedLayer(spec, new GgmlBlocks("Q8_0", new byte[34]), new float[8], null, null);
        assertTrue(blocks.integerGrid().isEmpty());
        assertThrows(IllegalStateException.class, blocks::grid);
    }

    @Test
    void schemeArgsAreDerivedFromTheFlatFields() {
        QuantizationArgs w = QuantScheme.intWeightOnly(4, 128, false).weights();
        assertEquals(NumberType.INT, w.numberType());
        assertEquals(Strategy.GROUP, w.strategy());
        assertFalse(w.symmetric());
        assertEquals(ScaleType.FP16, w.scaleType());
        assertEquals(Strategy.CHANNEL, QuantScheme.intWeightOnly(4, -1, true).weights().strategy());
        assertEquals(Strategy.TENSOR, QuantScheme.intWeightOnly(8, 0, true).weights().strategy());
        assertFalse(QuantScheme.intWeightOnly(4, 128, true).activations().quantized());
        assertEquals(NumberType.NONE, QuantScheme.FULL_PRECISION.weights().numberType());
        assertEquals(NumberType.FLOAT, QuantScheme.builder().bits(4).groupSize(32).sym(true).dataType("mx_fp").actBits(4).scaleDtype("fp32").build().activations().numberType());
    }

    @Test
    void oneGroupingRule() {
        QuantScheme g = QuantScheme.intWeightOnly(4, 32, true);
        for (int in : new int[]{16, 32, 48, 100}) {
            for (int gs : new int[]{-1, 0, 32}) {
                QuantScheme s = g.withGroupSize(gs);
                GroupLayout row = s.weights().layout(1, in);
                assertEquals(row.groupLength(), s.effectiveGroup(in));
                assertEquals(row.groupsPerRow(), s.groupsPerRow(in));
            }
        }
        assertEquals(2, QuantScheme.intWeightOnly(4, 32, true).groupsPerRow(48));
        assertEquals(48, QuantScheme.intWeightOnly(4, 64, true).effectiveGroup(48));
    }

    @Test
    void activationFieldsFollowTheWeightsUntilGiven() {
        QuantScheme w4 = QuantScheme.intWeightOnly(4, 128, true);
        assertEquals(128, w4.actGroupSize());
        assertEquals("float", w4.actDataType());
        QuantScheme g32 = w4.withGroupSize(32).withSym(false);
        assertEquals(32, g32.actGroupSize(), "an unset act_group_size follows --group_size, as AutoRound normalises after overrides");
        assertFalse(g32.actSym());
        QuantScheme a8 = g32.withActBits(8);
        assertEquals("int", a8.actDataType());
        assertEquals(NumberType.INT, a8.activations().numberType());
        assertTrue(a8.actDynamic());
        QuantScheme token = QuantScheme.builder().bits(8).groupSize(-1).actBits(8).actGroupSize(-1).build();
        assertEquals(Strategy.TOKEN, token.activations().strategy());
        assertEquals(Strategy.CHANNEL, token.weights().strategy());
        QuantScheme fixed = QuantScheme.builder().groupSize(128).actBits(8).actGroupSize(0).actDynamic(false).build();
        assertEquals(0, fixed.withGroupSize(32).actGroupSize(), "a given act_group_size stays");
        assertFalse(fixed.withGroupSize(32).actDynamic());
    }

    @Test
    void blockSchemesCarryBothBlockDimensions() {
        QuantScheme b = QuantScheme.builder().bits(8).block(128, 128).dataType("fp").actBits(8).actGroupSize(128).build();
        assertEquals(Strategy.BLOCK, b.weights().strategy());
        assertEquals(128, b.weights().blockRows());
        assertEquals(128, b.groupSize());
        assertEquals(b, b.toBuilder().build());
        assertEquals(Strategy.GROUP, b.withGroupSize(64).weights().strategy());
        assertThrows(IllegalArgumentException.class, () -> QuantizationArgs.builder().strategy(Strategy.BLOCK).build());
        assertEquals("W8G128x128 sym fp A8G128 sym fp", b.toString());
    }

    @Test
    void schemesAreValuesAndRoundTripThroughTheirBuilder() {
        QuantScheme q = QuantScheme.builder().bits(2).groupSize(32).sym(false).scaleDtype("float32").build();
        assertEquals("fp32", q.scaleDtype());
        assertEquals(q, q.toBuilder().build());
        assertEquals(q.hashCode(), q.toBuilder().build().hashCode());
        assertNotEquals(q, q.withBits(3));
        assertEquals(QuantScheme.intWeightOnly(2, 32, false).withScaleDtype("fp32"), q);
    }
}
