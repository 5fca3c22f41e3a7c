package dev.jround.kernel.job;

import dev.jround.spi.InvalidInputException;
import dev.jround.spi.quant.QuantScheme;

import java.util.Locale;

/**
 * AutoRound's top-level routing (algorithm.md 2.1): which block algorithm runs and whether it needs
 * calibration data. Names are the algorithm plugins' canonical names.
 *
 * @param algorithm     {@code signround}, {@code adam}, {@code opt_rtn} or {@code rtn}
 * @param needsData     whether calibration inputs are captured
 * @param disableOptRtn the resolved value of {@code disable_opt_rtn}
 */
public record AlgorithmChoice(String algorithm, boolean needsData, boolean disableOptRtn) {

    public static AlgorithmChoice resolve(QuantizeRequest r, QuantScheme scheme, String presetName, boolean ggufKQuant) {
        int iters = r.effectiveIters();
        String alg = r.algorithm() == null ? null : r.algorithm().toLowerCase(Locale.ROOT).trim();
        if (alg != null && !alg.isEmpty()) {
            for (String a : alg.split(",")) {
                String n = a.trim();
                if (!n.isEmpty() && !n.equals("rtn") && !n.equals("auto_round") && !n.equals("autoround")
                        && !n.equals("signround") && !n.equals("sign_round")) {
                    throw new InvalidInputException("--algorithm " + n + " is not available in jround",
                            "valid algorithms: auto_round (signround), rtn");
                }
            }
            if (alg.contains("rtn") && !alg.contains("round")) {
                iters = 0;
            }
        }
        if (iters > 0) {
            return new AlgorithmChoice(r.enableAdam() ? "adam" : "signround", true, false);
        }
        Boolean disable = r.effectiveDisableOptRtn();
        if (disable == null) {
            disable = scheme.bits() >= 8 && scheme.actBits() >= 8 && scheme.dataType().equals("int");
        }
        if (disable) {
            return new AlgorithmChoice("rtn", false, true);
        }
        boolean imatrix;
        if (ggufKQuant) {
            imatrix = true;
        } else if (!scheme.sym()) {
            imatrix = false;
        } else if (scheme.dataType().equals("int") && scheme.bits() < 8) {
            imatrix = true;
        } else {
            imatrix = presetName != null && presetName.toUpperCase(Locale.ROOT).startsWith("W");
        }
        // Asymmetric int has no importance-weighted search: opt-RTN falls back to plain RTN (no data needed).
        return imatrix ? new AlgorithmChoice("opt_rtn", true, false) : new AlgorithmChoice("rtn", false, false);
    }
}
