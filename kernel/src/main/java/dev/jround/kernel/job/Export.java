package dev.jround.kernel.job;

import dev.jround.kernel.model.LoadedModel;
import dev.jround.kernel.output.OutputTarget;
import dev.jround.spi.JroundException;
import dev.jround.spi.export.ExportContext;
import dev.jround.spi.export.ExportSession;
import dev.jround.spi.quant.QuantizedLayer;
import dev.jround.spi.tensor.TensorStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stage "export": one {@link ExportSession} per format, writing into {@code <run>.partial/<format>/}. Quantized
 * layers arrive through {@link #add} as blocks finish; {@link #finish} streams every other checkpoint tensor,
 * finishes each session and commits the target. Closed without a commit, it aborts the sessions and discards
 * the partial directory.
 */
final class Export implements AutoCloseable {

    private final OutputTarget target;
    private final List<ExportSession> sessions = new ArrayList<>();
    private final List<Path> outputs = new ArrayList<>();
    private final Set<String> written = new HashSet<>();
    private int quantized;
    private boolean committed;

    private Export(OutputTarget target) {
        this.target = target;
    }

    static Export open(Plan plan, LoadedModel model, JobCalibration calib, OutputLayout.Claim claim) {
        Path partial = claim.target().prepare();
        Export export = new Export(claim.target());
        try {
            Formats formats = plan.formats();
            Map<String, Object> runOptions = RunOptions.of(plan, calib);
            long shardLimit = RunOptions.shardLimit(plan.request(), model);
            for (int i = 0; i < formats.size(); i++) {
                String fmt = formats.names().get(i);
                Path dir = OutputLayout.formatDirectory(partial, fmt, formats.size());
                Files.createDirectories(dir);
                export.outputs.add(OutputLayout.formatDirectory(claim.runDir(), fmt, formats.size()));
                export.sessions.add(formats.exporters().get(i).open(ExportContext.builder().format(fmt).outputDir(dir)
                        .config(model.config()).sourceDir(model.source()).source(model.weights()).layers(plan.layers())
                        .blockPrefixes(plan.setup().blockPrefixes()).options(runOptions).maxShardBytes(shardLimit)
                        .layout(model.layout()).tokenizer(model.tokenizer()).build()));
            }
            return export;
        } catch (IOException e) {
            export.close();
            throw new JroundException("cannot write " + partial + ": " + e.getMessage(), "check free space and permissions", e);
        } catch (RuntimeException | Error e) {
            export.close();
            throw e;
        }
    }

    /** A finished quantized layer, to every session. Biases travel as plain tensors so that no exporter sees them twice. */
    void add(QuantizedLayer q) {
        QuantizedLayer layer = q.bias() == null ? q
                : q.withBias(null);
        for (ExportSession s : sessions) {
            s.addQuantized(layer);
        }
        written.add(q.name() + ".weight");
        quantized++;
    }

    void blockFinished(int block) {
        for (ExportSession s : sessions) {
            s.blockFinished(block);
        }
    }

    /** Every other checkpoint tensor goes out as it is, streamed from the memory-mapped source; then commit. */
    void finish(TensorStore weights) {
        for (String name : weights.names()) {
            if (!written.contains(name)) {
                var t = weights.get(name);
                for (ExportSession s : sessions) {
                    s.addTensor(name, t);
                }
            }
        }
        for (ExportSession s : sessions) {
            s.finish();
        }
        target.commit();
        committed = true;
    }

    /** The finished directories, one per format (valid after {@link #finish}). */
    List<Path> outputs() {
        return outputs;
    }

    int quantizedCount() {
        return quantized;
    }

    @Override
    public void close() {
        try {
            if (!committed) {
                for (ExportSession s : sessions) {
                    try {
                        s.abort();
                    } catch (RuntimeException ignored) {
                        // the partial directory is removed below anyway
                    }
                }
                target.discard();
            }
        } finally {
            for (ExportSession s : sessions) {
                s.close();
            }
        }
    }
}
