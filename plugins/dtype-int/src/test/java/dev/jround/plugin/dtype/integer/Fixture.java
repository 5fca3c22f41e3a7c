package dev.jround.plugin.dtype.integer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jround.lib.quant.testing.QdqFixture;

/** The fixture written by tools/fixtures/quant/make_int_fixtures.py (read by lib/quant-search's QdqFixture). */
final class Fixture {

    static final JsonNode ROOT = QdqFixture.load(Fixture.class, "/fixtures/int_qdq.json");

    private Fixture() {
    }

    static float[] floats(JsonNode node) {
        return QdqFixture.floats(node);
    }

    static float[] levels(JsonNode node, boolean signed) {
        return QdqFixture.levels(node, signed);
    }

    static JsonNode weight(String name) {
        return ROOT.get("weights").get(name);
    }
}
