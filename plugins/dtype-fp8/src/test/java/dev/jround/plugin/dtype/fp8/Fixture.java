package dev.jround.plugin.dtype.fp8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/** Reads the fixture written by tools/fixtures/quant/make_fp_fixtures.py. */
final class Fixture {

    static final JsonNode ROOT = load();

    private Fixture() {
    }

    private static JsonNode load() {
        try (InputStream in = Fixture.class.getResourceAsStream("/fixtures/fp8_qdq.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(node.asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static JsonNode weight(String name) {
        return ROOT.get("weights").get(name);
    }
}
