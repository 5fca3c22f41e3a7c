package dev.jround.plugin.llmcompressor;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.CorruptInputException;
import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.FloatElements;
import dev.jround.spi.quant.IntegerGrid;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.DType;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.TensorInfo;
import dev.jround.spi.tensor.TensorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A compressed-tensors checkpoint ({@code quant_method compressed-tensors}, status {@code compressed}) with integer
 * layers in the {@code pack-quantized} or {@code int-quantized} format, read back into the quantizer's terms: per
 * Linear the unsigned codes, scales, zero points and the dequantized weight. Reads what jround writes and what
 * compressed-tensors' own compressors write (docs/formats.md, llm_compressor).
 */
final class CompressedTensorsCheckpoint implements AutoCloseable {

    /** One config group as the reader needs it. */
    private record Group(String name, List<String> targets, String format, int bits, boolean sym, String strategy, int groupSize) {
        boolean floats() {
            return FLOAT_FORMATS.contains(format);
        }
    }

    private static final java.util.Set<String> FLOAT_FORMATS = java.util.Set.of(CtScheme.MXFP4, CtScheme.MXFP8, CtScheme.NVFP4,
            CtScheme.FLOAT_QUANTIZED);

    private final Path dir;
    private final ModelConfig config;
    private final SafetensorsCheckpoint store;
    private final List<Group> groups = new ArrayList<>();
    private final List<String> ignore = new ArrayList<>();
    private final Map<String, Group> modules = new LinkedHashMap<>();

    private CompressedTensorsCheckpoint(Path dir) {
        this.dir = dir;
        this.config = ConfigJson.read(dir);
        JsonNode qc = ConfigJson.tree(config).get("quantization_config");
        if (qc == null || !qc.isObject() || !"compressed-tensors".equals(qc.path("quant_method").asText())) {
            throw new InvalidInputException(dir.resolve("config.json") + " has no compressed-tensors quantization_config",
                    "an llm_compressor checkpoint's config.json holds \"quantization_config\": {\"quant_method\": \"compressed-tensors\", ...}");
        }
        String status = qc.path("quantization_status").asText("compressed");
        if (!status.equals("compressed")) {
            throw new UnsupportedFeatureException(dir + " is a compressed-tensors checkpoint with quantization_status '" + status + "'",
                    "only compressed checkpoints (quantization_status compressed) can be read");
        }
        String topFormat = qc.path("format").asText("");
        qc.path("ignore").forEach(n -> ignore.add(n.asText()));
        for (var it = qc.path("config_groups").fields(); it.hasNext(); ) {
            var e = it.next();
            groups.add(group(e.getKey(), e.getValue(), topFormat));
        }
        if (groups.isEmpty()) {
            throw invalid("quantization_config.config_groups is empty");
        }
        this.store = SafetensorsCheckpoint.open(dir);
        try {
            for (String n : store.names()) {
                String m;
                if (n.endsWith(".weight_packed")) {
                    m = n.substring(0, n.length() - ".weight_packed".length());
                } else if (n.endsWith(".weight_scale") && store.contains((m = n.substring(0, n.length() - ".weight_scale".length())) + ".weight")) {
                    // int-quantized: the int8 weight sits under its usual name next to its scale
                } else {
                    continue;
                }
                Group g = groupOf(m);
                if (g == null) {
                    throw new CorruptInputException(dir + ": " + m + " is stored compressed but no config group targets it",
                            "make quantization_config.config_groups/ignore agree with the tensors, or re-export the checkpoint");
                }
                checkHeaders(m, g);
                modules.put(m, g);
            }
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    static CompressedTensorsCheckpoint open(Path dir) {
        return new CompressedTensorsCheckpoint(dir);
    }

    /** Whether a directory holds config.json with a compressed-tensors quantization_config and safetensors. */
    static boolean readable(Path dir) {
        if (dir == null || !Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve("config.json"))) {
            return false;
        }
        try (var s = Files.list(dir)) {
            if (s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors"))) {
                return false;
            }
            return "compressed-tensors".equals(ConfigJson.tree(ConfigJson.read(dir)).path("quantization_config").path("quant_method").asText(""));
        } catch (Exception e) {
            return false;
        }
    }

    private Group group(String name, JsonNode g, String topFormat) {
        String where = "quantization_config.config_groups." + name;
        if (!g.isObject()) {
            throw invalid(where + " is " + g + ", expected an object with targets and weights");
        }
        List<String> targets = new ArrayList<>();
        g.path("targets").forEach(t -> targets.add(t.asText()));
        String format = g.path("format").isTextual() ? g.path("format").asText() : topFormat;
        JsonNode w = g.path("weights");
        if (!w.isObject()) {
            throw new UnsupportedFeatureException(dir + ": " + where + " quantizes no weights", "readable: weight-quantized groups");
        }
        String type = w.path("type").asText("int");
        if (type.equals("float") && FLOAT_FORMATS.contains(format)) {
            int bits = w.path("num_bits").asInt(8);
            if ((format.equals(CtScheme.MXFP4) || format.equals(CtScheme.NVFP4)) != (bits == 4)) {
                throw invalid(where + ".weights.num_bits is " + bits + ", which format " + format + " does not store");
            }
            return new Group(name, targets, format, bits, true, w.path("strategy").asText(""), w.path("group_size").asInt(-1));
        }
        if (!type.equals("int") || !(format.equals(CtScheme.PACK_QUANTIZED) || format.equals(CtScheme.INT_QUANTIZED))) {
            throw new UnsupportedFeatureException(dir + ": " + where + " has format '" + format + "' with " + type + " weights",
                    "readable compressed-tensors formats: pack-quantized, int-quantized, float-quantized (FP8), mxfp4-pack-quantized, mxfp8-quantized, nvfp4-pack-quantized");
        }
        int bits = w.path("num_bits").asInt(8);
        if (bits < 1 || bits > 8) {
            throw invalid(where + ".weights.num_bits is " + bits + "; integer weights have 1..8 bits");
        }
        int gs = w.path("group_size").isIntegralNumber() ? w.path("group_size").asInt() : -1;
        String strategy = w.path("strategy").asText(gs > 0 ? "group" : "channel").toLowerCase(Locale.ROOT);
        if (!strategy.equals("group") && !strategy.equals("channel")) {
            throw new UnsupportedFeatureException(dir + ": " + where + ".weights.strategy is '" + strategy + "'",
                    "readable integer strategies: group, channel");
        }
        if (strategy.equals("group") && gs <= 0) {
            throw invalid(where + ".weights: strategy group needs a positive group_size, not " + w.path("group_size"));
        }
        if (w.path("actorder").asText("").equals("group")) {
            throw new UnsupportedFeatureException(dir + ": " + where + " uses activation ordering with g_idx", "not readable yet");
        }
        return new Group(name, targets, format, bits, w.path("symmetric").asBoolean(true), strategy, strategy.equals("group") ? gs : -1);
    }

    /** The group targeting a module: exact names first, then {@code re:} patterns, then class names (as vLLM matches). */
    private Group groupOf(String module) {
        if (matchesAny(ignore, module)) {
            return null;
        }
        for (int pass = 0; pass < 3; pass++) {
            for (Group g : groups) {
                for (String t : g.targets()) {
                    boolean hit = switch (pass) {
                        case 0 -> t.equals(module);
                        case 1 -> t.startsWith("re:") && regex(t, module);
                        default -> !t.startsWith("re:") && !t.contains(".") && Character.isUpperCase(t.charAt(0));
                    };
                    if (hit) {
                        return g;
                    }
                }
            }
        }
        return null;
    }

    private static boolean matchesAny(List<String> patterns, String module) {
        for (String p : patterns) {
            if (p.equals(module) || (p.startsWith("re:") && regex(p, module))) {
                return true;
            }
        }
        return false;
    }

    /** compressed-tensors matches {@code re:} patterns with Python's re.match (anchored at the start). */
    private static boolean regex(String target, String module) {
        try {
            return Pattern.compile(target.substring(3)).matcher(module).lookingAt();
        } catch (PatternSyntaxException e) {
            return false;
        }
    }

    private void checkHeaders(String m, Group g) {
        if (g.floats()) {
            TensorInfo codes = store.info(m + (g.bits() == 4 ? ".weight_packed" : ".weight")).orElseThrow(() -> corrupt(m + " has no codes"));
            DType want = g.bits() == 4 ? DType.U8 : DType.F8_E4M3;
            if (codes.dtype() != want || codes.shape().length != 2 || !store.contains(m + ".weight_scale")
                    || (g.format().equals(CtScheme.NVFP4) && !store.contains(m + ".weight_global_scale"))) {
                throw corrupt(m + " is not a " + g.format() + " layer (" + want + " codes, weight_scale"
                        + (g.format().equals(CtScheme.NVFP4) ? ", weight_global_scale" : "") + ")");
            }
            return;
        }
        TensorInfo scale = store.info(m + ".weight_scale").orElseThrow(() -> corrupt(m + " has no weight_scale"));
        long[] ss = scale.shape();
        if (!scale.dtype().isFloating() || ss.length != 2) {
            throw corrupt(m + ".weight_scale is " + scale.dtype() + " " + java.util.Arrays.toString(ss) + ", expected a float [out, groups] tensor");
        }
        long[] shape = shape(m, g);
        int out = (int) shape[0];
        int in = (int) shape[1];
        int ng = g.strategy().equals("group") ? (in + g.groupSize() - 1) / g.groupSize() : 1;
        if (ss[0] != out || ss[1] != ng) {
            throw corrupt(m + ".weight_scale has shape " + java.util.Arrays.toString(ss) + ", expected [" + out + ", " + ng + "]");
        }
        if (g.format().equals(CtScheme.PACK_QUANTIZED)) {
            TensorInfo p = store.info(m + ".weight_packed").orElseThrow();
            if (p.dtype() != DType.I32 || p.shape().length != 2 || p.shape()[0] != out || p.shape()[1] != CtPacking.words(in, g.bits())) {
                throw corrupt(m + ".weight_packed is " + p.dtype() + " " + java.util.Arrays.toString(p.shape()) + ", expected I32 ["
                        + out + ", " + CtPacking.words(in, g.bits()) + "] for " + g.bits() + "-bit codes of " + in + " inputs");
            }
            if (!g.sym()) {
                TensorInfo z = store.info(m + ".weight_zero_point").orElseThrow(() -> corrupt(m + " is asymmetric but has no weight_zero_point"));
                if (z.dtype() != DType.I32 || z.shape().length != 2 || z.shape()[0] != CtPacking.words(out, g.bits()) || z.shape()[1] != ng) {
                    throw corrupt(m + ".weight_zero_point is " + z.dtype() + " " + java.util.Arrays.toString(z.shape()) + ", expected I32 ["
                            + CtPacking.words(out, g.bits()) + ", " + ng + "]");
                }
            }
        } else {
            TensorInfo w = store.info(m + ".weight").orElseThrow();
            if (w.dtype() != DType.I8) {
                throw corrupt(m + ".weight is " + w.dtype() + ", expected I8 codes (int-quantized)");
            }
        }
    }

    private long[] shape(String m, Group g) {
        if (g.floats()) {
            long[] s = store.info(m + (g.bits() == 4 ? ".weight_packed" : ".weight")).orElseThrow().shape();
            return g.bits() == 4 ? new long[]{s[0], s[1] * 2} : s.clone();
        }
        if (g.format().equals(CtScheme.INT_QUANTIZED)) {
            long[] s = store.info(m + ".weight").orElseThrow().shape();
            if (s.length != 2) {
                throw corrupt(m + ".weight has " + s.length + " dimensions, expected 2");
            }
            return s;
        }
        if (!store.contains(m + ".weight_shape")) {
            throw corrupt(m + " has weight_packed but no weight_shape");
        }
        HostTensor t = store.get(m + ".weight_shape");
        if (t.numel() != 2 || t.dtype().isFloating()) {
            throw corrupt(m + ".weight_shape is " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + ", expected two integers [out, in]");
        }
        int[] v = t.toInts();
        if (v[0] <= 0 || v[1] <= 0) {
            throw corrupt(m + ".weight_shape is [" + v[0] + ", " + v[1] + "]");
        }
        return new long[]{v[0], v[1]};
    }

    private CorruptInputException corrupt(String what) {
        return new CorruptInputException(dir + ": " + what, "re-export the checkpoint; its tensors do not match compressed-tensors' layout");
    }

    private InvalidInputException invalid(String what) {
        return new InvalidInputException(dir.resolve("config.json") + ": " + what, "fix the quantization_config of config.json, or re-export the checkpoint");
    }

    Path directory() {
        return dir;
    }

    /** config.json without its quantization_config. */
    ObjectNode plainConfig() {
        ObjectNode c = ConfigJson.tree(config);
        c.remove("quantization_config");
        return c;
    }

    ModelConfig config() {
        return config;
    }

    TensorStore tensors() {
        return store;
    }

    /** Compressed modules in checkpoint order. */
    List<String> compressedModules() {
        return Collections.unmodifiableList(new ArrayList<>(modules.keySet()));
    }

    /** Whether a stored tensor belongs to a compressed Linear (and is replaced by its dequantized weight). */
    boolean isCompressedTensor(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0 || !modules.containsKey(name.substring(0, dot))) {
            return false;
        }
        String p = name.substring(dot + 1);
        return p.equals("weight") || p.equals("weight_packed") || p.equals("weight_scale") || p.equals("weight_zero_point")
                || p.equals("weight_shape");
    }

    /** [out, in] of a compressed module. */
    long[] weightShape(String module) {
        return shape(module, modules.get(module));
    }

    QuantScheme schemeOf(String module) {
        Group g = modules.get(module);
        QuantScheme s = QuantScheme.intWeightOnly(g.bits(), g.groupSize(), g.sym());
        return g.format().equals(CtScheme.INT_QUANTIZED) ? QuantScheme.builder().bits(g.bits()).groupSize(g.groupSize()).sym(g.sym()).actBits(8).actGroupSize(-1).actSym(true).actDataType("int").actDynamic(true).build() : s;
    }

    /** A compressed module as the quantizer's record; the dequantized weight is compressed-tensors' (in the scale's dtype). */
    QuantizedLayer layer(String module, int blockIndex) {
        Group g = modules.get(module);
        if (g == null) {
            throw new InvalidInputException("no compressed layer " + module + " in " + dir, "compressed layers: " + modules.size());
        }
        long[] shape = shape(module, g);
        int out = (int) shape[0];
        int in = (int) shape[1];
        if (g.floats()) {
            return floatLayer(module, g, out, in, blockIndex);
        }
        HostTensor scaleT = store.get(module + ".weight_scale");
        float[] scales = scaleT.toFloats();
        int ng = scales.length / out;
        int group = g.strategy().equals("group") ? g.groupSize() : in;
        int half = 1 << (g.bits() - 1);
        int[] codes;
        int[] zeros = new int[out * ng];
        if (g.format().equals(CtScheme.PACK_QUANTIZED)) {
            codes = CtPacking.unpackRows(store.get(module + ".weight_packed").toInts(), out, in, g.bits());
            if (g.sym()) {
                java.util.Arrays.fill(zeros, half);
            } else {
                zeros = CtPacking.unpackColumns(store.get(module + ".weight_zero_point").toInts(), out, ng, g.bits());
            }
        } else {
            int[] signed = store.get(module + ".weight").toInts();
            codes = new int[signed.length];
            for (int i = 0; i < signed.length; i++) {
                codes[i] = signed[i] + half;
            }
            if (!g.sym() && store.contains(module + ".weight_zero_point")) {
                int[] z = store.get(module + ".weight_zero_point").toInts();
                for (int i = 0; i < zeros.length; i++) {
                    zeros[i] = z[i] + half;
                }
            } else {
                java.util.Arrays.fill(zeros, half);
            }
        }
        DType sd = scaleT.dtype();
        float[] w = new float[out * in];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                int gi = r * ng + c / group;
                // (q - z) and the product are exact in float32; rounding once to the scale's dtype is what
                // compressed-tensors' dequantize computes
                float v = scales[gi] * (float) (codes[r * in + c] - zeros[gi]);
                w[r * in + c] = sd == DType.F16 ? Floats.roundToF16(v) : sd == DType.BF16 ? Floats.roundToBf16(v) : v;
            }
        }
        QuantScheme s = schemeOf(module);
        LayerSpec spec = new LayerSpec(module, in, out, s, blockIndex, false, "read from compressed-tensors checkpoint " + dir.getFileName());
        float[] bias = store.contains(module + ".bias") ? store.get(module + ".bias").toFloats() : null;
        return new QuantizedLayer(spec, new IntegerGrid(g.bits(), group, codes, scales, zeros), w, bias, null);
    }

    /**
     * A float layer as its {@link FloatElements} payload, with the weight jround's fake export holds: exact products
     * for MX and FP8, the reference's reciprocal form for NVFP4 (compressed-tensors' own NVFP4 decompression rounds
     * {@code fp4 * (scale / global)} to bfloat16 instead).
     */
    private QuantizedLayer floatLayer(String module, Group g, int out, int in, int blockIndex) {
        HostTensor scaleT = store.get(module + ".weight_scale");
        long[] ss = scaleT.shape();
        int sr = ss.length == 2 ? (int) ss[0] : 1;
        int sc = ss.length == 2 ? (int) ss[1] : 1;
        if (out % sr != 0 || in % sc != 0) {
            throw corrupt(module + ".weight_scale grid " + sr + "x" + sc + " does not tile the " + out + "x" + in + " weight");
        }
        FloatElements.ScaleFormat sf;
        float[] scales;
        if (scaleT.dtype() == DType.U8) {
            sf = FloatElements.ScaleFormat.E8M0;
            int[] b = scaleT.toInts();
            scales = new float[b.length];
            for (int i = 0; i < b.length; i++) {
                scales[i] = FloatPacking.fromE8m0(b[i]);
            }
        } else {
            sf = scaleT.dtype() == DType.F8_E4M3 ? FloatElements.ScaleFormat.FP8_E4M3 : FloatElements.ScaleFormat.FP32;
            scales = scaleT.toFloats();
        }
        float global = g.format().equals(CtScheme.NVFP4) ? store.get(module + ".weight_global_scale").toFloats()[0] : 1f;
        byte[] elements = new byte[g.bits() == 4 ? out * in / 2 : out * in];
        store.get(module + (g.bits() == 4 ? ".weight_packed" : ".weight")).data().duplicate().get(elements);
        FloatElements fe = new FloatElements(g.bits() == 4 ? FloatElements.ElementFormat.FP4_E2M1 : FloatElements.ElementFormat.FP8_E4M3,
                out, in, elements, sf, out / sr, in / sc, scales, global);
        float[] w = new float[out * in];
        boolean nv = g.format().equals(CtScheme.NVFP4);
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                // NVFP4: the reference AutoRound's fake weight, fp4 * 1/(1/(scale * (1/global))), as the nv_fp data type
                // computes it (docs/formats.md); the other formats' values are exact products
                w[r * in + c] = nv ? fe.format().decode(fe.element(r * in + c)) * recip(recip(fe.scaleOf(r, c) * recip(global)))
                        : fe.value(r, c);
            }
        }
        String dt = g.format().equals(CtScheme.NVFP4) ? "nv_fp" : g.format().equals(CtScheme.FLOAT_QUANTIZED) ? "fp" : "mx_fp";
        QuantScheme.Builder b = QuantScheme.builder().bits(g.bits()).sym(true).dataType(dt);
        if (out / sr > 1 && in / sc < in) {
            b.block(out / sr, in / sc);
        } else {
            b.groupSize(sr == 1 && sc == 1 ? 0 : in / sc == in ? -1 : in / sc);
        }
        LayerSpec spec = new LayerSpec(module, in, out, b.build(), blockIndex, false, "read from compressed-tensors checkpoint " + dir.getFileName());
        float[] bias = store.contains(module + ".bias") ? store.get(module + ".bias").toFloats() : null;
        return new QuantizedLayer(spec, fe, w, bias, null);
    }

    private static float recip(float x) {
        return x == 0f ? 0f : 1f / x;
    }

    @Override
    public void close() {
        store.close();
    }
}
