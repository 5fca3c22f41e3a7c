package dev.jround.plugin.dtype.fp8;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.lib.quant.testing.QdqFixture;

/** The fixture written by tools/fixtures/quant/make_fp_fixtures.py (read by lib/quant-search's QdqFixture). */
final class Fixture {

    static final JsonNode ROOT = QdqFixture.load(Fixture.class, "/fixtures/fp8_qdq.json");

    private Fixture() {
    }

    static float[] floats(JsonNode node) {
        return QdqFixture.floats(node);
    }

    static JsonNode weight(String name) {
        return ROOT.get("weights").get(name);
    }
}
