package dev.jround.lib.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PyJsonTest {

    @Test
    void floatsPrintLikePythonRepr() {
        assertEquals("1e-05", PyJson.pyFloat(1e-5));
        assertEquals("10000.0", PyJson.pyFloat(10000.0));
        assertEquals("0.005", PyJson.pyFloat(0.005));
        assertEquals("0.0001", PyJson.pyFloat(1e-4));
        assertEquals("1e+16", PyJson.pyFloat(1e16));
        assertEquals("1234567890123456.0", PyJson.pyFloat(1234567890123456.0));
        assertEquals("-2.5e-07", PyJson.pyFloat(-2.5e-7));
        assertEquals("0.0", PyJson.pyFloat(0.0));
        assertEquals("0.02", PyJson.pyFloat(0.02));
    }

    @Test
    void layoutMatchesJsonDumpsIndentTwo() throws Exception {
        ObjectNode o = (ObjectNode) new ObjectMapper().readTree(
                "{\"b\":{},\"a\":[1,\"x\\u00e9\"],\"c\":{\"k\":null,\"e\":[]},\"d\":true}");
        assertEquals("{\n  \"a\": [\n    1,\n    \"x\\u00e9\"\n  ],\n  \"b\": {},\n  \"c\": {\n    \"e\": [],\n    \"k\": null\n  },\n  \"d\": true\n}",
                PyJson.write(o, true));
        assertEquals("{\n  \"b\": {},", PyJson.write(o, false).substring(0, 12));
    }

    @Test
    void rewritesATransformersConfigByteForByte() throws Exception {
        Path shared = Path.of(System.getProperty("jround.shared", "../shared"));
        Path cfg = shared.resolve("models/aidreams260K-reference-exports/auto_round_w4g32sym/config.json");
        assumeTrue(Files.isRegularFile(cfg), "reference exports not present");
        String text = Files.readString(cfg);
        assertEquals(text, PyJson.write(new ObjectMapper().readTree(text), true) + "\n");
        Path qc = cfg.resolveSibling("quantization_config.json");
        String qtext = Files.readString(qc);
        assertEquals(qtext, PyJson.write(new ObjectMapper().readTree(qtext), false));
    }
}
