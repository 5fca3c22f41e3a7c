package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.UnsupportedFeatureException;
import dev.jround.spi.quant.AlgorithmRole;
import dev.jround.spi.quant.PresetTraits;
import dev.jround.spi.quant.QuantAlgorithm;
import dev.jround.spi.quant.QuantScheme;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * AutoRound's top-level routing (docs/algorithms.md, "Which algorithm runs"): which routing slot the run needs, and the installed plugin that
 * declares it ({@link QuantAlgorithm#roles()}). {@code --algorithm} values are the aliases plugins declare.
 *
 * @param plugin        the block algorithm
 * @param role          the slot it fills in this run
 * @param disableOptRtn the resolved value of {@code disable_opt_rtn}
 */
public record AlgorithmChoice(QuantAlgorithm plugin, AlgorithmRole role, boolean disableOptRtn) {

    /** The plugin's canonical name, as recorded in the run's metadata. */
    public String algorithm() {
        return plugin.name();
    }

    /** Whether calibration inputs are captured. */
    public boolean needsData() {
        return plugin.needsCalibration();
    }

    /**
     * @param preset    what the run's preset declares (its importance-matrix rule)
     * @param installed the algorithm plugins in registry order (sorted by id), which decides ties
     */
    public static AlgorithmChoice resolve(QuantizeRequest r, QuantScheme scheme, PresetTraits preset,
                                          List<QuantAlgorithm> installed) {
        int iters = r.effectiveIters();
        String alg = r.algorithm() == null ? null : r.algorithm().toLowerCase(Locale.ROOT).trim();
        if (alg != null && !alg.isEmpty()) {
            boolean named = false;
            boolean tuning = false;
            for (String a : alg.split(",")) {
                String n = a.trim();
                if (n.isEmpty()) {
                    continue;
                }
                QuantAlgorithm p = byAlias(installed, n).orElseThrow(() -> new InvalidInputException(
                        "--algorithm " + n + " is not available in jround", "valid algorithms: " + aliasList(installed)));
                named = true;
                tuning |= p.roles().stream().anyMatch(AlgorithmRole::tuning);
            }
            // AutoRound's legacy rule: naming only round-to-nearest algorithms means iters 0
            if (named && !tuning) {
                iters = 0;
            }
        }
        if (iters > 0) {
            return choose(installed, r.enableAdam() ? AlgorithmRole.ADAM_TUNING : AlgorithmRole.TUNING, false);
        }
        Boolean disable = r.effectiveDisableOptRtn();
        if (disable == null) {
            disable = scheme.bits() >= 8 && scheme.actBits() >= 8 && scheme.dataType().equals("int");
        }
        if (disable) {
            return choose(installed, AlgorithmRole.RTN, true);
        }
        boolean imatrix;
        if (preset.importanceMatrix() == PresetTraits.ImportanceMatrix.ALWAYS) {
            imatrix = true;
        } else if (!scheme.sym()) {
            imatrix = false;
        } else if (scheme.dataType().equals("int") && scheme.bits() < 8) {
            imatrix = true;
        } else {
            imatrix = preset.importanceMatrix() == PresetTraits.ImportanceMatrix.WHEN_SYMMETRIC;
        }
        // Asymmetric int has no importance-weighted search: opt-RTN falls back to plain RTN (no data needed).
        return choose(installed, imatrix ? AlgorithmRole.OPTIMIZED_RTN : AlgorithmRole.RTN, false);
    }

    private static AlgorithmChoice choose(List<QuantAlgorithm> installed, AlgorithmRole role, boolean disableOptRtn) {
        QuantAlgorithm p = installed.stream().filter(a -> a.roles().contains(role)).findFirst().orElseThrow(() ->
                new UnsupportedFeatureException("no installed algorithm plugin declares the " + role + " role this run needs",
                        "installed: " + installed.stream().map(a -> a.descriptor().id() + " " + a.roles()).toList()));
        return new AlgorithmChoice(p, role, disableOptRtn);
    }

    private static Optional<QuantAlgorithm> byAlias(List<QuantAlgorithm> installed, String value) {
        return installed.stream().filter(a -> a.aliases().stream().anyMatch(value::equalsIgnoreCase)).findFirst();
    }

    /** {@code first-alias (name)} per plugin that --algorithm can name, e.g. {@code auto_round (signround), rtn}. */
    private static String aliasList(List<QuantAlgorithm> installed) {
        List<String> out = new ArrayList<>();
        for (QuantAlgorithm a : installed) {
            if (!a.aliases().isEmpty()) {
                String first = a.aliases().get(0);
                out.add(first.equals(a.name()) ? first : first + " (" + a.name() + ")");
            }
        }
        out.sort(null);
        return String.join(", ", out);
    }
}
