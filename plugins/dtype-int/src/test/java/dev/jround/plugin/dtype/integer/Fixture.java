package dev.jround.plugin.dtype.integer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/** Reads the fixture written by tools/fixtures/quant/make_int_fixtures.py. */
final class Fixture {

    static final JsonNode ROOT = load();

    private Fixture() {
    }

    private static JsonNode load() {
        try (InputStream in = Fixture.class.getResourceAsStream("/fixtures/int_qdq.json")) {
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

    /** Integer levels stored one byte each: signed for symmetric cases, unsigned for asymmetric ones. */
    static float[] levels(JsonNode node, boolean signed) {
        byte[] raw = Base64.getDecoder().decode(node.asText());
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = signed ? raw[i] : (raw[i] & 0xFF);
        }
        return out;
    }

    static JsonNode weight(String name) {
        return ROOT.get("weights").get(name);
    }
}
