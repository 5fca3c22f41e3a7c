package dev.jround.plugin.onnx;

import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatMulNBitsLayoutTest {

    private static LayerSpec layer(int in, QuantScheme s) {
        return new LayerSpec("model.layers.0.mlp.down_proj", in, 8, s, 0, false, "test");
    }

    @Test
    void fourBitCodesPackLowNibbleFirstAndPadWithTheZeroPoint() {
        // one row, K = 20 in blocks of 16: the second block has 4 codes and 12 padding slots holding the zero point
        int[] codes = new int[20];
        for (int i = 0; i < 20; i++) {
            codes[i] = i % 16;
        }
        IntegerGrid g = new IntegerGrid(4, 16, codes, new float[]{1f, 2f}, new int[]{3, 9});
        MatMulNBitsLayout l = new MatMulNBitsLayout(1, 20, 4, 16);
        l.check("x", g);
        byte[] b = l.packCodes(g);
        assertEquals(16, b.length, "1 row x 2 blocks x 8 bytes");
        assertEquals((byte) 0x10, b[0]);
        assertEquals((byte) 0xFE, b[7]);
        assertEquals((byte) 0x10, b[8], "codes 16 % 16 = 0 and 17 % 16 = 1");
        assertEquals((byte) 0x32, b[9]);
        assertEquals((byte) 0x99, b[10], "padding holds zero point 9");
        assertArrayEquals(new byte[]{(byte) 0x93}, l.packZeros(g), "zero points 3 | 9 << 4");
    }

    @Test
    void twoBitCodesPackFourToAByte() {
        int[] codes = {1, 2, 3, 0, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1};
        IntegerGrid g = new IntegerGrid(2, 16, codes, new float[]{1f}, new int[]{2});
        MatMulNBitsLayout l = new MatMulNBitsLayout(1, 16, 2, 16);
        assertArrayEquals(new byte[]{0b00111001, (byte) 0xFF, 0, 0b01010101}, l.packCodes(g));
        assertArrayEquals(new byte[]{2}, l.packZeros(g));
    }

    @Test
    void refusalsNameTheLayerAndWhatTheOpTakes() {
        assertEquals(Optional.empty(), MatMulNBitsLayout.refusal(layer(64, QuantScheme.intWeightOnly(4, 32, false))));
        assertEquals(Optional.empty(), MatMulNBitsLayout.refusal(layer(64, QuantScheme.intWeightOnly(8, 128, true))));
        assertEquals(Optional.empty(), MatMulNBitsLayout.refusal(layer(172, QuantScheme.intWeightOnly(2, -1, false))),
                "per channel: one padded block of 256");
        assertEquals(256, MatMulNBitsLayout.blockFor(172, -1));
        assertEquals(16, MatMulNBitsLayout.blockFor(10, -1));
        String three = MatMulNBitsLayout.refusal(layer(64, QuantScheme.intWeightOnly(3, 32, false))).orElseThrow();
        assertTrue(three.contains("model.layers.0.mlp.down_proj") && three.contains("2, 4 or 8"), three);
        assertTrue(MatMulNBitsLayout.refusal(layer(64, QuantScheme.intWeightOnly(4, 48, false))).orElseThrow()
                .contains("powers of two"));
        assertTrue(MatMulNBitsLayout.refusal(layer(1024, QuantScheme.intWeightOnly(4, 512, false))).isPresent());
        assertTrue(MatMulNBitsLayout.refusal(layer(300, QuantScheme.intWeightOnly(4, -1, false))).orElseThrow()
                .contains("per-channel"));
        assertTrue(MatMulNBitsLayout.refusal(layer(64, QuantScheme.intWeightOnly(4, 0, false))).orElseThrow()
                .contains("per tensor"));
        QuantScheme w4a8 = QuantScheme.builder().bits(4).groupSize(32).actBits(8).build();
        assertTrue(MatMulNBitsLayout.refusal(layer(64, w4a8)).orElseThrow().contains("activations"));
        QuantScheme fp8 = QuantScheme.builder().bits(8).groupSize(32).dataType("fp8_e4m3").build();
        assertTrue(MatMulNBitsLayout.refusal(layer(64, fp8)).orElseThrow().contains("integer grids"));
        assertEquals(Optional.empty(), MatMulNBitsLayout.refusal(layer(64, QuantScheme.FULL_PRECISION)));
    }
}
