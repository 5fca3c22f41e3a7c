package dev.jround.it.job;

import dev.jround.it.TinyLlama;
import dev.jround.kernel.job.QuantizationJob;
import dev.jround.kernel.job.QuantizeRequest;
import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.JroundPlugin;
import dev.jround.spi.PluginDescriptor;
import dev.jround.spi.PluginKind;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.export.Exporter;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.quant.LayerSpec;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.HostTensor;
import dev.jround.lib.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What export sessions are told during a run: the block-finished events, and the layout exporters refuse by. */
class ExportEventsTest {

    @TempDir
    Path tmp;

    /** Records every call of its sessions. */
    static final class RecordingExporter implements Exporter {
        final List<String> events = new ArrayList<>();
        TensorLayout layout;

        @Override
        public PluginDescriptor descriptor() {
            return new PluginDescriptor(PluginKind.EXPORTER, "recording", "1.0.0", "records session calls", Map.of());
        }

        @Override
        public List<String> formats() {
            return List.of("recording");
        }

        @Override
        public String supportedSchemes(String format) {
            return "any";
        }

        @Override
        public Optional<String> refusal(String format, LayerSpec layer) {
            return Optional.empty();
        }

        @Override
        public ExportSession open(ExportContext context) {
            layout = context.layout();
            return new ExportSession() {
                @Override
                public void addQuantized(QuantizedLayer layer) {
                    events.add("layer " + layer.name());
                }

                @Override
                public void addTensor(String name, HostTensor tensor) {
                    events.add("tensor");
                }

                @Override
                public void blockFinished(int block) {
                    events.add("block " + block);
                }

                @Override
                public void finish() {
                    events.add("finish");
                }
            };
        }
    }

    /** The installed plugins plus {@code extra}. */
    static PluginRegistry with(Exporter extra) {
        ServiceLoaderRegistry installed = new ServiceLoaderRegistry();
        return new PluginRegistry() {
            @Override
            @SuppressWarnings("unchecked")
            public <T extends JroundPlugin> List<T> all(Class<T> type) {
                List<T> r = new ArrayList<>(installed.all(type));
                if (type == Exporter.class) {
                    r.add((T) extra);
                }
                return r;
            }

            @Override
            public List<Entry> entries() {
                return installed.entries();
            }
        };
    }

    static QuantizeRequest request(Path model, Path out, String format) {
        return QuantizeRequest.builder().model(model.toString()).iters(0).groupSize(32).disableOptRtn(true)
                .formats(List.of(format)).outputDir(out.toString()).build();
    }

    @Test
    void everyBlockFinishesOnceInOrderAfterItsLayers() throws Exception {
        Path model = TinyLlama.SMALL.write(tmp.resolve("tiny"), 0f);
        RecordingExporter rec = new RecordingExporter();
        new QuantizationJob(with(rec), null).run(request(model, tmp.resolve("out"), "recording"));
        List<String> e = rec.events;
        assertEquals(List.of("block 0", "block 1"), e.stream().filter(s -> s.startsWith("block")).toList(), e.toString());
        int b0 = e.indexOf("block 0");
        int b1 = e.indexOf("block 1");
        for (int i = 0; i < e.size(); i++) {
            String s = e.get(i);
            if (s.startsWith("layer model.layers.0.")) {
                assertTrue(i < b0, s + " after block 0 finished: " + e);
            } else if (s.startsWith("layer model.layers.1.")) {
                assertTrue(i > b0 && i < b1, s + " outside block 1: " + e);
            }
        }
        assertEquals(14, e.stream().filter(s -> s.startsWith("layer ")).count(), e.toString());
        assertTrue(b1 < e.indexOf("finish"));
        // the session got the architecture's declaration
        assertNotNull(rec.layout);
        assertEquals("llama", rec.layout.facts().llamaCpp().architecture());
    }

    @Test
    void ggufRefusesOptBeforeAnyWork() throws Exception {
        Path model = tinyOpt(tmp.resolve("tiny-opt"));
        Path out = tmp.resolve("out");
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                () -> new QuantizationJob(new ServiceLoaderRegistry(), null).run(request(model, out, "gguf:q4_0")));
        assertTrue(e.getMessage().contains("llama.cpp has no OPT architecture"), e.getMessage());
        assertFalse(Files.exists(out) && Files.list(out).findAny().isPresent(), "nothing written");
    }

    /** A 2-block OPT checkpoint 32 wide with a word-level tokenizer. */
    static Path tinyOpt(Path dir) throws Exception {
        Files.createDirectories(dir);
        int h = 32;
        int ffn = 64;
        int vocab = 32;
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "opt", "architectures": ["OPTForCausalLM"], "hidden_size": %d, "ffn_dim": %d,
                 "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": %d, "max_position_embeddings": 64,
                 "word_embed_proj_dim": %d, "do_layer_norm_before": true, "activation_function": "relu",
                 "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}""".formatted(h, ffn, vocab, h));
        Random r = new Random(5);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("model.decoder.embed_tokens.weight", rand(r, vocab, h));
        t.put("model.decoder.embed_positions.weight", rand(r, 64 + 2, h));
        t.put("model.decoder.final_layer_norm.weight", rand(r, h));
        t.put("model.decoder.final_layer_norm.bias", rand(r, h));
        for (int l = 0; l < 2; l++) {
            String p = "model.decoder.layers." + l + ".";
            for (String n : new String[]{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"}) {
                t.put(p + n + ".weight", rand(r, h, h));
                t.put(p + n + ".bias", rand(r, h));
            }
            t.put(p + "fc1.weight", rand(r, ffn, h));
            t.put(p + "fc1.bias", rand(r, ffn));
            t.put(p + "fc2.weight", rand(r, h, ffn));
            t.put(p + "fc2.bias", rand(r, h));
            for (String n : new String[]{"self_attn_layer_norm", "final_layer_norm"}) {
                t.put(p + n + ".weight", rand(r, h));
                t.put(p + n + ".bias", rand(r, h));
            }
        }
        SafetensorsWriter.writeAll(dir, t, Map.of("format", "pt"));
        return dir;
    }

    static HostTensor rand(Random r, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.05);
        return HostTensor.ofFloats(v, shape);
    }
}
