package dev.jround.lib.hf.testing;

import dev.jround.lib.safetensors.ConfigJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.ModelConfig;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantScheme;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.Floats;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.spi.tensor.MapTensorStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * A tiny two-block Llama-shaped model with random quantizer records, and the plumbing to export it. Shared by
 * the exporter plugins' tests through jround-lib-hf-packed's test-jar.
 */
public final class ExportFixture {

    public static final String[] ATTN = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"};
    public static final String[] MLP = {"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    public static final int HIDDEN = 64;
    public static final int INTER = 96;
    public static final int VOCAB = 128;

    public final Path sourceDir;
    public final ModelConfig config;
    public final MapTensorStore source = new MapTensorStore();
    public final List<LayerSpec> specs = new ArrayList<>();
    public final Map<String, QuantizedLayer> quantized = new LinkedHashMap<>();
    public final Map<String, HostTensor> floats = new LinkedHashMap<>();

    /**
     * @param schemeOf scheme per module name ({@link QuantScheme#FULL_PRECISION} keeps it float); the head is
     *                 named {@code lm_head}
     */
    public ExportFixture(Path dir, boolean tie, Function<String, QuantScheme> schemeOf, boolean zeroPointZeroAllowed, long seed) throws IOException {
        sourceDir = Files.createDirectories(dir.resolve("src"));
        ObjectNode cfg = new ObjectMapper().createObjectNode();
        cfg.putArray("architectures").add("LlamaForCausalLM");
        cfg.put("model_type", "llama");
        cfg.put("hidden_size", HIDDEN);
        cfg.put("intermediate_size", INTER);
        cfg.put("num_hidden_layers", 2);
        cfg.put("num_attention_heads", 4);
        cfg.put("num_key_value_heads", 4);
        cfg.put("vocab_size", VOCAB);
        cfg.put("rms_norm_eps", 1e-5);
        cfg.put("tie_word_embeddings", tie);
        cfg.put("dtype", "float32");
        Files.writeString(sourceDir.resolve("config.json"), cfg.toPrettyString());
        Files.writeString(sourceDir.resolve("tokenizer.json"), "{\"model\":{}}");
        Files.writeString(sourceDir.resolve("tokenizer_config.json"), "{}");
        Files.writeString(sourceDir.resolve("generation_config.json"), "{\"bos_token_id\":1}");
        Files.writeString(sourceDir.resolve("calib.jsonl"), "{\"text\":\"not copied\"}\n");
        config = ConfigJson.config(sourceDir, cfg);
        Random r = new Random(seed);
        floats.put("model.embed_tokens.weight", randomFloats(r, VOCAB, HIDDEN));
        for (int b = 0; b < 2; b++) {
            String p = "model.layers." + b + ".";
            floats.put(p + "input_layernorm.weight", randomFloats(r, HIDDEN));
            floats.put(p + "post_attention_layernorm.weight", randomFloats(r, HIDDEN));
            for (String m : ATTN) {
                addLinear(p + m, HIDDEN, HIDDEN, b, schemeOf, zeroPointZeroAllowed, r, m.endsWith("q_proj"));
            }
            addLinear(p + MLP[0], HIDDEN, INTER, b, schemeOf, zeroPointZeroAllowed, r, false);
            addLinear(p + MLP[1], HIDDEN, INTER, b, schemeOf, zeroPointZeroAllowed, r, false);
            addLinear(p + MLP[2], INTER, HIDDEN, b, schemeOf, zeroPointZeroAllowed, r, false);
        }
        floats.put("model.norm.weight", randomFloats(r, HIDDEN));
        addLinear("lm_head", HIDDEN, VOCAB, -1, schemeOf, zeroPointZeroAllowed, r, false);
        floats.forEach(source::put);
    }

    private void addLinear(String name, int in, int out, int block, Function<String, QuantScheme> schemeOf,
                           boolean zeroPointZeroAllowed, Random r, boolean withBias) {
        QuantScheme s = schemeOf.apply(name);
        LayerSpec spec = new LayerSpec(name, in, out, s, block, false, "test");
        specs.add(spec);
        HostTensor w = randomFloats(r, out, in);
        source.put(name + ".weight", w);
        float[] bias = null;
        if (withBias) {
            HostTensor bt = randomFloats(r, out);
            source.put(name + ".bias", bt);
            bias = bt.toFloats();
        }
        if (!s.quantizesWeights()) {
            floats.put(name + ".weight", w);
            if (bias != null) {
                floats.put(name + ".bias", source.get(name + ".bias"));
            }
            return;
        }
        quantized.put(name, randomLayer(spec, bias, zeroPointZeroAllowed, r));
    }

    /** Codes and zeros in range, fp16-representable scales (negative ones for sym), dequantized = s*(q-z) in float32. */
    public static QuantizedLayer randomLayer(LayerSpec spec, float[] bias, boolean zeroPointZeroAllowed, Random r) {
        QuantScheme s = spec.scheme();
        int out = spec.outFeatures();
        int in = spec.inFeatures();
        int g = s.effectiveGroup(in);
        int ng = s.groupsPerRow(in);
        int max = (1 << s.bits()) - 1;
        int[] codes = new int[out * in];
        int[] zeros = new int[out * ng];
        float[] scales = new float[out * ng];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = r.nextInt(max + 1);
        }
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = s.sym() ? 1 << (s.bits() - 1) : (zeroPointZeroAllowed ? r.nextInt(max + 1) : 1 + r.nextInt(max));
            float sc = Floats.roundToF16(0.001f + r.nextFloat() * 0.05f);
            scales[i] = s.sym() && r.nextInt(4) == 0 ? -sc : sc;
        }
        if (zeroPointZeroAllowed && !s.sym()) {
            zeros[0] = 0;
            zeros[zeros.length - 1] = max;
        }
        float[] dq = new float[out * in];
        for (int n = 0; n < out; n++) {
            for (int k = 0; k < in; k++) {
                int gi = n * ng + k / g;
                dq[n * in + k] = scales[gi] * (float) (codes[n * in + k] - zeros[gi]);
            }
        }
        return QuantizedLayer.ofGrid(spec, g, codes, scales, zeros, dq, bias);
    }

    public static HostTensor randomFloats(Random r, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.05f;
        }
        return HostTensor.ofFloats(v, shape);
    }

    public ExportContext context(Path out, String format, Map<String, Object> options, long maxShard) {
        return ExportContext.builder().format(format).outputDir(out).config(config).sourceDir(sourceDir).source(source)
                .layers(specs).blockPrefixes(List.of("model.layers")).options(options).maxShardBytes(maxShard).build();
    }

    /** Streams the model into an exporter the way the kernel does: blocks in order, then the float tensors. */
    public Path export(Exporter e, Path out, String format, Map<String, Object> options, long maxShard) {
        ExportContext ctx = context(out, format, options, maxShard);
        for (LayerSpec s : specs) {
            e.refusal(format, s).ifPresent(reason -> {
                throw new IllegalStateException("unexpected refusal: " + reason);
            });
        }
        try (ExportSession session = e.open(ctx)) {
            quantized.values().forEach(session::addQuantized);
            floats.forEach(session::addTensor);
            session.finish();
        }
        return out;
    }
}
