package dev.jround.plugin.mlx;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An MLX affine checkpoint (jround's {@code mlx} / {@code auto_round:mlx}, or mlx-lm's own): config.json's
 * {@code quantization} dict and, per quantized module, {@code weight} (uint32), {@code scales}, {@code biases}.
 * Decodes as MLX does ({@code S*q + B}); {@link #layer} recovers integer zero points where {@code B = -S*z}
 * exactly (what jround and AutoRound write), for conversion to the GPTQ-family layouts.
 */
final class MlxCheckpoint implements AutoCloseable {

    /** One quantized module's header facts. */
    record Packed(String module, int out, int in, int bits, int groupSize) {
    }

    private final Path dir;
    private final ModelConfig config;
    private final ObjectNode quantization;
    private final SafetensorsCheckpoint store;
    private final Map<String, Packed> packed = new LinkedHashMap<>();

    private MlxCheckpoint(Path dir) {
        this.dir = dir;
        this.config = ConfigJson.read(dir);
        this.quantization = quantizationOf(ConfigJson.tree(config));
        if (quantization == null) {
            throw new InvalidInputException(dir.resolve("config.json") + " has no MLX quantization dict",
                    "an MLX checkpoint's config.json holds \"quantization\": {\"group_size\": 64, \"bits\": 4, ...}");
        }
        String mode = quantization.path("mode").asText("affine");
        if (!mode.equals("affine")) {
            throw new UnsupportedFeatureException(dir + " uses MLX quantization mode '" + mode + "'", "only affine MLX checkpoints can be read");
        }
        int defaultBits = setting(quantization, "bits", "quantization");
        int defaultGroup = setting(quantization, "group_size", "quantization");
        this.store = SafetensorsCheckpoint.open(dir);
        try {
            for (String n : store.names()) {
                if (!n.endsWith(".scales")) {
                    continue;
                }
                String m = n.substring(0, n.length() - ".scales".length());
                JsonNode entry = quantization.get(m);
                if (entry != null && entry.isBoolean() && !entry.asBoolean()) {
                    throw new CorruptInputException(dir + ": " + m + " has scales but config.json's quantization keeps it in float (false)",
                            "make config.json's quantization dict agree with the tensors, or re-export the checkpoint");
                }
                int bits = entry != null && entry.isObject() ? setting(entry, "bits", "quantization[\"" + m + "\"]") : defaultBits;
                int group = entry != null && entry.isObject() ? setting(entry, "group_size", "quantization[\"" + m + "\"]") : defaultGroup;
                packed.put(m, check(m, bits, group));
            }
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    static MlxCheckpoint open(Path dir) {
        return new MlxCheckpoint(dir);
    }

    /** config.json's {@code quantization} dict, else an MLX-shaped quantization_config (no quant_method), else null. */
    private static ObjectNode quantizationOf(ObjectNode cfg) {
        if (cfg.get("quantization") instanceof ObjectNode q) {
            return q;
        }
        if (cfg.get("quantization_config") instanceof ObjectNode qc && !qc.has("quant_method") && qc.has("bits") && qc.has("group_size")) {
            return qc;
        }
        return null;
    }

    /** Whether {@code dir} holds config.json with an MLX quantization dict and safetensors. */
    static boolean readable(Path dir) {
        if (dir == null || !Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve("config.json"))) {
            return false;
        }
        try (var s = Files.list(dir)) {
            if (s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors"))) {
                return false;
            }
            ObjectNode cfg = ConfigJson.tree(ConfigJson.read(dir));
            JsonNode qc = cfg.get("quantization_config");
            if (qc != null && qc.has("quant_method")) {
                // an auto-round config is MLX only when it says so; gptq/awq/other auto-round packings are not
                return qc.path("packing_format").asText("").equals("mlx") && quantizationOf(cfg) != null;
            }
            return quantizationOf(cfg) != null;
        } catch (Exception e) {
            return false;
        }
    }

    private int setting(JsonNode owner, String key, String where) {
        JsonNode v = owner.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new InvalidInputException(dir.resolve("config.json") + ": " + where + "." + key + " is " + v + ", expected an integer",
                    "an MLX quantization entry is {\"group_size\": 32|64|128, \"bits\": 2|3|4|5|6|8}");
        }
        int x = v.asInt();
        boolean ok = key.equals("bits") ? MlxPacking.BITS.contains(x) : MlxPacking.GROUPS.contains(x);
        if (!ok) {
            throw new InvalidInputException(dir.resolve("config.json") + ": " + where + "." + key + " is " + x,
                    key.equals("bits") ? "MLX affine layers have 2, 3, 4, 5, 6 or 8 bits" : "MLX affine layers have group_size 32, 64 or 128");
        }
        return x;
    }

    /** Shapes and dtypes of one module's tensors agree with each other and its bits/group (headers only). */
    private Packed check(String m, int bits, int group) {
        TensorInfo w = store.info(m + ".weight").orElseThrow(() -> corrupt(m + " has scales but no weight"));
        TensorInfo s = store.info(m + ".scales").orElseThrow();
        TensorInfo b = store.info(m + ".biases").orElseThrow(() -> corrupt(m + " has scales but no biases (affine MLX layers store both)"));
        if (w.dtype() != DType.U32 || w.shape().length != 2) {
            throw corrupt(m + ".weight is " + w.dtype() + " " + java.util.Arrays.toString(w.shape()) + ", expected U32 [out, in*bits/32]");
        }
        int out = Math.toIntExact(w.shape()[0]);
        long inBits = w.shape()[1] * 32;
        if (inBits % bits != 0) {
            throw corrupt(m + ".weight has " + w.shape()[1] + " words per row, not a whole number of " + bits + "-bit codes");
        }
        int in = Math.toIntExact(inBits / bits);
        if (in % group != 0) {
            throw corrupt(m + ": in_features " + in + " (from " + bits + "-bit weight words) is not a multiple of group_size " + group);
        }
        long[] expect = {out, in / group};
        for (TensorInfo t : new TensorInfo[]{s, b}) {
            if (!java.util.Arrays.equals(t.shape(), expect) || !t.dtype().isFloating()) {
                throw corrupt(t.name() + " is " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + ", expected a float tensor "
                        + java.util.Arrays.toString(expect) + " for " + bits + " bits, group " + group);
            }
        }
        if (s.dtype() != b.dtype()) {
            throw corrupt(m + ".scales is " + s.dtype() + " but " + m + ".biases is " + b.dtype());
        }
        return new Packed(m, out, in, bits, group);
    }

    private CorruptInputException corrupt(String what) {
        return new CorruptInputException(dir + ": " + what, "re-export the checkpoint; its tensors do not match config.json's quantization");
    }

    Path directory() {
        return dir;
    }

    /** config.json without quantization and quantization_config. */
    ObjectNode plainConfig() {
        ObjectNode c = ConfigJson.tree(config);
        c.remove("quantization");
        c.remove("quantization_config");
        return c;
    }

    ModelConfig config() {
        return config;
    }

    TensorStore tensors() {
        return store;
    }

    List<Packed> packedModules() {
        return Collections.unmodifiableList(new ArrayList<>(packed.values()));
    }

    /** Whether a stored tensor is part of a quantized module ({@code weight}, {@code scales}, {@code biases}). */
    boolean isPackedTensor(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            return false;
        }
        String suffix = name.substring(dot + 1);
        return (suffix.equals("weight") || suffix.equals("scales") || suffix.equals("biases")) && packed.containsKey(name.substring(0, dot));
    }

    Packed packed(String module) {
        Packed p = packed.get(module);
        if (p == null) {
            throw new InvalidInputException("no quantized MLX module " + module + " in " + dir, packed.size() + " quantized modules");
        }
        return p;
    }

    int[] codes(String module) {
        Packed p = packed(module);
        return MlxPacking.unpack(store.get(module + ".weight").toInts(), p.out(), p.in(), p.bits());
    }

    /** The module's weight as MLX computes it: {@code S*q + B} in float32. */
    float[] dequantize(String module) {
        Packed p = packed(module);
        return MlxPacking.dequantize(codes(module), store.get(module + ".scales").toFloats(),
                store.get(module + ".biases").toFloats(), p.out(), p.in(), p.groupSize());
    }

    /**
     * The module as the quantizer's record: {@code z = -B/S} must be an integer the stored biases reproduce exactly
     * ({@code B == round(-S*z)} in the biases' dtype), which holds for jround's and AutoRound's exports but not for
     * mlx-lm's own min/max quantization; such a module is refused with the group named.
     */
    QuantizedLayer layer(String module, int blockIndex) {
        Packed p = packed(module);
        float[] s = store.get(module + ".scales").toFloats();
        float[] b = store.get(module + ".biases").toFloats();
        DType dt = store.info(module + ".biases").orElseThrow().dtype();
        int[] z = new int[s.length];
        int groups = p.in() / p.groupSize();
        boolean sym = true;
        int symZero = 1 << (p.bits() - 1);
        for (int i = 0; i < s.length; i++) {
            if (s[i] == 0f) {
                if (b[i] != 0f) {
                    throw notIntegerZero(module, i / groups, i % groups, s[i], b[i]);
                }
                z[i] = symZero;
                continue;
            }
            double zd = -(double) b[i] / s[i];
            long zr = Math.round(zd);
            if (zr < 0 || zr > (1 << p.bits()) - 1 || roundTo(dt, -s[i] * (float) zr) != b[i]) {
                throw notIntegerZero(module, i / groups, i % groups, s[i], b[i]);
            }
            z[i] = (int) zr;
            sym &= z[i] == symZero;
        }
        // auto_round:mlx states sym (per layer in extra_config); a sym-looking asym layer stays asym
        JsonNode qc = ConfigJson.tree(config).path("quantization_config");
        JsonNode layerSym = qc.path("extra_config").path(module).path("sym");
        JsonNode stated = layerSym.isBoolean() ? layerSym : qc.path("sym");
        if (stated.isBoolean()) {
            sym &= stated.asBoolean();
        }
        QuantScheme scheme = QuantScheme.intWeightOnly(p.bits(), p.groupSize(), sym);
        LayerSpec spec = new LayerSpec(module, p.in(), p.out(), scheme, blockIndex, false, "read from MLX checkpoint " + dir.getFileName());
        int[] codes = codes(module);
        float[] w = new float[codes.length];
        for (int r = 0; r < p.out(); r++) {
            for (int c = 0; c < p.in(); c++) {
                int g = r * groups + c / p.groupSize();
                w[r * p.in() + c] = s[g] * (float) (codes[r * p.in() + c] - z[g]);
            }
        }
        float[] bias = store.contains(module + ".bias") ? store.floats(module + ".bias") : null;
        return new QuantizedLayer(spec, new IntegerGrid(p.bits(), p.groupSize(), codes, s, z), w, bias, null);
    }

    private static float roundTo(DType dt, float v) {
        return switch (dt) {
            case F16 -> Floats.roundToF16(v);
            case BF16 -> Floats.roundToBf16(v);
            default -> v;
        };
    }

    private UnsupportedFeatureException notIntegerZero(String module, int row, int group, float s, float b) {
        return new UnsupportedFeatureException(dir + ": " + module + " (row " + row + ", group " + group + ") has scale " + s
                + " and bias " + b + ", which is not -scale*zero for an integer zero point",
                "this MLX checkpoint (e.g. mlx-lm's own min/max quantization) has no exact GPTQ-style zero points; "
                        + "load it with 'jround eval/generate' instead of converting");
    }

    @Override
    public void close() {
        store.close();
    }
}
