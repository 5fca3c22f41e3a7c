package dev.jround.kernel.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jround.spi.JroundException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The outcome of one evaluation. Reference-based fields are {@code null} when no reference model was given.
 *
 * @param tokens predicted tokens scored (every position but the first of each sequence)
 */
public record EvalReport(String model, String reference, String data, int sequences, int seqlen, long tokens,
                         double perplexity, Double referencePerplexity, Double meanKld, Double medianKld,
                         Double p99Kld, Double maxKld, Double top1Agreement, Double rmsDeltaP, double seconds) {

    static EvalReport of(String model, String reference, String data, int sequences, int seqlen, EvalStats s,
                         double seconds) {
        boolean ref = s.hasReference();
        return new EvalReport(model, reference, data, sequences, seqlen, s.tokens(), s.perplexity(),
                ref ? s.referencePerplexity() : null, ref ? s.meanKld() : null, ref ? s.kldQuantile(0.5) : null,
                ref ? s.kldQuantile(0.99) : null, ref ? s.kldQuantile(1.0) : null, ref ? s.top1Agreement() : null,
                ref ? s.rmsDeltaP() : null, seconds);
    }

    /** The report as JSON (field names in snake_case; absent reference measures are omitted). */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("model", model);
        if (reference != null) {
            n.put("reference", reference);
        }
        n.put("data", data);
        n.put("sequences", sequences);
        n.put("seqlen", seqlen);
        n.put("tokens", tokens);
        n.put("perplexity", perplexity);
        if (referencePerplexity != null) {
            n.put("reference_perplexity", referencePerplexity);
            n.put("mean_kld", meanKld);
            n.put("median_kld", medianKld);
            n.put("p99_kld", p99Kld);
            n.put("max_kld", maxKld);
            n.put("top1_agreement", top1Agreement);
            n.put("rms_delta_p", rmsDeltaP);
        }
        n.put("seconds", seconds);
        return n;
    }

    /** Writes the JSON report atomically (temporary file, then rename). */
    public void write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".partial");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), toJson());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new JroundException("cannot write the report " + file + ": " + e.getMessage(), "check that the folder is writable", e);
        }
    }

    /** One table: a header line and a value line. */
    public String table() {
        StringBuilder head = new StringBuilder();
        StringBuilder row = new StringBuilder();
        cell(head, row, "model", shortName(model), 28);
        cell(head, row, "tokens", Long.toString(tokens), 8);
        cell(head, row, "ppl", fmt("%.4f", perplexity), 11);
        if (referencePerplexity != null) {
            cell(head, row, "ref ppl", fmt("%.4f", referencePerplexity), 11);
            cell(head, row, "mean KLD", fmt("%.6f", meanKld), 10);
            cell(head, row, "top-1 agree", fmt("%.2f%%", 100 * top1Agreement), 11);
            cell(head, row, "RMS dp", fmt("%.3f%%", 100 * rmsDeltaP), 9);
        }
        cell(head, row, "seconds", fmt("%.2f", seconds), 8);
        return head.toString().stripTrailing() + System.lineSeparator() + row.toString().stripTrailing() + System.lineSeparator();
    }

    private static void cell(StringBuilder head, StringBuilder row, String title, String value, int width) {
        int w = Math.max(width, Math.max(title.length(), value.length()));
        head.append(String.format(Locale.ROOT, "%-" + w + "s  ", title));
        row.append(String.format(Locale.ROOT, "%-" + w + "s  ", value));
    }

    /** The last path element (a folder or .gguf name) keeps the table narrow; the JSON has the full path. */
    private static String shortName(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return p.substring(p.lastIndexOf('/') + 1);
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
