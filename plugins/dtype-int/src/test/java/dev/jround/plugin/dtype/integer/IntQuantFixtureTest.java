package dev.jround.plugin.dtype.integer;

import dev.jround.lib.quant.ImportanceMatrix;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.spi.quant.GroupLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantDataType.TunableParams;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Host quantization and the DJL QDQ against independent torch values (sym/asym, bits 2-8, group -1/0/32/64/128,
 * padded and short rows, tuned V/alpha/beta, other scale dtypes, optimized RTN with and without imatrix).
 */
class IntQuantFixtureTest {

    private static NDManager manager;
    private final IntDataType type = new IntDataType();

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static QuantScheme scheme(JsonNode c) {
        return QuantScheme.intWeightOnly(c.get("bits").asInt(), c.get("group_size").asInt(), c.get("sym").asBoolean())
                .withScaleDtype(c.get("scale_dtype").asText());
    }

    static LayerSpec spec(JsonNode c) {
        JsonNode w = Fixture.weight(c.get("weight").asText());
        return new LayerSpec("layer", w.get("cols").asInt(), w.get("rows").asInt(), scheme(c), 0, false, "test");
    }

    @TestFactory
    List<DynamicTest> hostQuantizeMatchesFixture() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> checkHost(c)));
        }
        return tests;
    }

    private void checkHost(JsonNode c) {
        LayerSpec spec = spec(c);
        QuantScheme s = spec.scheme();
        float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
        boolean opt = "opt_rtn".equals(c.get("mode").asText());
        QuantizedLayer q = type.quantize(spec, w, null, Fixture.floats(c.get("v")), Fixture.floats(c.get("alpha")),
                Fixture.floats(c.get("beta")), Fixture.floats(c.get("imatrix")), opt);
        GroupLayout layout = GroupLayout.of(spec);
        float[] levels = layout.fromGroups(Fixture.levels(c.get("q"), s.sym()));
        float[] scales = Fixture.floats(c.get("scales"));
        float[] zeros = Fixture.floats(c.get("zeros"));
        ScaleDtype sd = ScaleDtype.of(s.scaleDtype());
        int perRow = layout.perTensor() ? 1 : layout.groupsPerRow();
        int groupLen = layout.perTensor() ? spec.inFeatures() : layout.groupLength();
        assertEquals(groupLen, q.grid().groupSize());
        int zeroOffset = s.sym() ? 1 << (s.bits() - 1) : 0;
        for (int r = 0; r < spec.outFeatures(); r++) {
            for (int col = 0; col < spec.inFeatures(); col++) {
                int i = r * spec.inFeatures() + col;
                int g = layout.perTensor() ? 0 : r * perRow + col / groupLen;
                int gi = r * perRow + col / groupLen;
                assertEquals((int) levels[i] + zeroOffset, q.grid().codes()[i], "code " + i);
                float expectedScale = opt ? sd.round(scales[g]) : scales[g];
                assertEquals(expectedScale, q.grid().scales()[gi], 0f, "scale " + gi);
                assertEquals((int) zeros[g], q.grid().zeros()[gi], "zero " + gi);
                float expectedDeq = s.sym() ? expectedScale * levels[i] : expectedScale * (levels[i] - zeros[g]);
                assertEquals(expectedDeq, q.dequantized()[i], 0f, "dequantized " + i);
                assertEquals(true, q.grid().codes()[i] >= 0 && q.grid().codes()[i] < (1 << s.bits()), "code range");
            }
        }
        if (opt) {
            // the float32 search result itself, before storage rounding
            float[] grouped = layout.toGroups(w, 0f);
            float[] im = Fixture.floats(c.get("imatrix"));
            float[] importance = im == null ? null : ImportanceMatrix.grouped(im, grouped, layout, s.bits(), s.groupSize());
            IntQuant.Grouped r = IntQuant.optimizedSym(grouped, layout.numGroups(), layout.groupLength(), s.bits(), importance);
            assertArrayEquals(scales, r.scales(), 0f);
        }
    }

    @TestFactory
    List<DynamicTest> djlQdqEqualsHostQuantizeBitForBit() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixture.ROOT.get("cases")) {
            if ("opt_rtn".equals(c.get("mode").asText())) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> checkDjl(c)));
        }
        return tests;
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    private void checkDjl(JsonNode c) {
        LayerSpec spec = spec(c);
        float[] w = Fixture.floats(Fixture.weight(c.get("weight").asText()).get("data"));
        float[] v = Fixture.floats(c.get("v"));
        float[] alpha = Fixture.floats(c.get("alpha"));
        float[] beta = Fixture.floats(c.get("beta"));
        QuantizedLayer host = type.quantize(spec, w, null, v, alpha, beta, null, false);
        try (NDManager m = manager.newSubManager()) {
            NDArray weight = m.create(w, new Shape(spec.outFeatures(), spec.inFeatures()));
            TunableParams init = type.initTunableParams(weight, spec.scheme());
            TunableParams p = new TunableParams(
                    v == null ? init.v() : m.create(v, init.v().getShape()),
                    alpha == null ? init.alpha() : m.create(alpha, init.alpha().getShape()),
                    beta == null ? init.beta() : m.create(beta, init.beta().getShape()),
                    init.wMin(), init.wMax());
            float[] tuned = type.qdq(weight, spec.scheme(), p).toFloatArray();
            // with V present both sides take the tuning path (straight-through rounding, zeros are +0)
            float[] hostTuned = v != null ? host.dequantized()
                    : type.quantize(spec, w, null, new float[(int) init.v().size()], alpha, beta, null, false).dequantized();
            assertArrayEquals(bits(hostTuned), bits(tuned), "qdq with params, bit for bit (signed zeros included)");
            if (v == null) {
                float[] plain = type.qdq(weight, spec.scheme(), null).toFloatArray();
                assertArrayEquals(bits(host.dequantized()), bits(plain), "plain RTN qdq, bit for bit");
            }
        }
    }
}
