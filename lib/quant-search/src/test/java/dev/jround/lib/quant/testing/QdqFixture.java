package dev.jround.lib.quant.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * Reads the data types' QDQ fixtures (tools/fixtures/quant/make_*_fixtures.py): a JSON file on the test class path
 * whose arrays are base64 little-endian float32 (or one byte per integer level).
 */
public final class QdqFixture {

    private QdqFixture() {
    }

    /** The fixture {@code resource} (e.g. {@code /fixtures/mx_qdq.json}) from {@code anchor}'s class path. */
    public static JsonNode load(Class<?> anchor, String resource) {
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no fixture " + resource + " on the test class path");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float[] floats(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(node.asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** Integer levels stored one byte each: signed for symmetric cases, unsigned for asymmetric ones. */
    public static float[] levels(JsonNode node, boolean signed) {
        byte[] raw = Base64.getDecoder().decode(node.asText());
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = signed ? raw[i] : (raw[i] & 0xFF);
        }
        return out;
    }
}
