package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.BlockJob;
import dev.jround.spi.quant.BlockResult;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantScheme;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The routing picks plugins by the roles they declare; the ids below are arbitrary on purpose. */
class AlgorithmChoiceTest {

    static QuantAlgorithm plugin(String id, AlgorithmRole role, boolean data, String... aliases) {
        return new QuantAlgorithm() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(PluginKind.ALGORITHM, id, "1.0.0", "");
            }

            @Override
            public String name() {
                return id;
            }

            @Override
            public boolean needsCalibration() {
                return data;
            }

            @Override
            public Set<AlgorithmRole> roles() {
                return Set.of(role);
            }

            @Override
            public List<String> aliases() {
                return List.of(aliases);
            }

            @Override
            public BlockResult quantizeBlock(BlockJob job) {
                throw new UnsupportedOperationException();
            }
        };
    }

    static final List<QuantAlgorithm> INSTALLED = List.of(
            plugin("a1", AlgorithmRole.ADAM_TUNING, true),
            plugin("o1", AlgorithmRole.OPTIMIZED_RTN, true),
            plugin("r1", AlgorithmRole.RTN, false, "plain"),
            plugin("t1", AlgorithmRole.TUNING, true, "tune", "t1"));
    static final QuantScheme W4 = QuantScheme.intWeightOnly(4, 128, true);
    static final QuantScheme W8 = QuantScheme.intWeightOnly(8, 128, true);
    static final PresetTraits SYMMETRIC = PresetTraits.builder().importanceMatrix(PresetTraits.ImportanceMatrix.WHEN_SYMMETRIC).build();

    static AlgorithmChoice route(QuantizeRequest r, QuantScheme s, PresetTraits t) {
        return AlgorithmChoice.resolve(r, s, t, INSTALLED);
    }

    static QuantizeRequest.Builder req() {
        return QuantizeRequest.builder().model("m");
    }

    @Test
    void followsAutoRoundsRouting() {
        QuantizeRequest r = req().build();
        assertEquals("t1", route(r, W4, PresetTraits.NONE).algorithm());
        r = req().enableAdam(true).build();
        assertEquals("a1", route(r, W4, PresetTraits.NONE).algorithm());
        r = req().iters(0).build();
        AlgorithmChoice c = route(r, W4, PresetTraits.NONE);
        assertEquals("o1", c.algorithm());
        assertTrue(c.needsData());
        // W8 int: opt-RTN off by default; on by request, then only a WHEN_SYMMETRIC preset wants the imatrix
        c = route(r, W8, SYMMETRIC);
        assertEquals("r1", c.algorithm());
        assertTrue(c.disableOptRtn());
        r = req().iters(0).disableOptRtn(false).build();
        assertEquals("o1", route(r, W8, SYMMETRIC).algorithm());
        assertEquals("r1", route(r, W8, PresetTraits.NONE).algorithm());
        // asymmetric: no imatrix unless the preset always wants one
        QuantScheme asym = W4.withSym(false);
        assertEquals("r1", route(r, asym, SYMMETRIC).algorithm());
        assertFalse(route(r, asym, SYMMETRIC).needsData());
        assertEquals("o1", route(r, asym, PresetTraits.builder().importanceMatrix(PresetTraits.ImportanceMatrix.ALWAYS).build()).algorithm());
    }

    @Test
    void algorithmFlagTakesDeclaredAliases() {
        assertEquals("o1", route(req().algorithm("PLAIN").build(), W4, PresetTraits.NONE).algorithm(),
                "naming only non-tuning plugins means iters 0");
        assertEquals("t1", route(req().algorithm("plain,tune").build(), W4, PresetTraits.NONE).algorithm());
        QuantizeRequest r = req().algorithm("o1").build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> route(r, W4, PresetTraits.NONE));
        assertEquals("--algorithm o1 is not available in jround", e.getMessage());
        assertEquals("valid algorithms: plain (r1), tune (t1)", e.hint());
    }

    @Test
    void aMissingRoleIsRefused() {
        QuantizeRequest r = req().build();
        assertThrows(UnsupportedFeatureException.class,
                () -> AlgorithmChoice.resolve(r, W4, PresetTraits.NONE, List.of(INSTALLED.get(2))));
    }
}
