package dev.jround.kernel.calib;

import java.util.Map;
import dev.jround.spi.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference's test for a code-specialised model, which changes the default calibration set to a code
 * mix: the model id or path, the config's {@code _name_or_path}, {@code model_type} and every
 * {@code architectures} entry are split into words (camel-case boundaries, non-alphanumerics); a word in
 * {@link #WORDS}, or an alphanumeric part equal to a known code-model family (optionally followed by
 * digits), marks a code model; failing that, the config's task fields.
 */
public final class CodeModels {

    static final Set<String> WORDS = Set.of("code", "coder", "coding", "programming", "swe", "devstral");
    static final Set<String> FAMILIES = Set.of("codellama", "codegemma", "codestral", "deepseekcoder", "granitecode",
            "magicoder", "opencoder", "qwencoder", "santacoder", "stablecode", "starcoder", "wizardcoder");
    static final Set<String> TASKS = Set.of("code-generation", "software-engineering", "text-to-code");
    private static final Pattern CAMEL = Pattern.compile("(?<=[a-z0-9])(?=[A-Z])");
    private static final Pattern FAMILY_WITH_DIGITS = Pattern.compile("([a-z]+?)\\d*");

    private CodeModels() {
    }

    /** @param modelArg the model id or path as given (may be null); @param config the model's config (may be null) */
    public static boolean isCodeModel(String modelArg, ModelConfig config) {
        List<String> names = new ArrayList<>();
        if (modelArg != null) {
            names.add(modelArg);
        }
        if (config != null) {
            names.add(config.getString("_name_or_path", null));
            names.add(config.modelType());
            names.addAll(config.architectures());
        }
        for (String n : names) {
            if (n != null && nameSaysCode(n)) {
                return true;
            }
        }
        if (config != null) {
            for (String key : List.of("finetuning_task", "task", "pipeline_tag")) {
                String v = config.getString(key, null);
                if (v != null && TASKS.contains(normalizeTask(v))) {
                    return true;
                }
            }
            for (String task : config.getObject("task_specific_params").map(Map::keySet).orElse(Set.of())) {
                if (TASKS.contains(normalizeTask(task))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String normalizeTask(String v) {
        return v.replace('_', '-').toLowerCase(Locale.ROOT);
    }

    static boolean nameSaysCode(String name) {
        String trimmed = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        String last = trimmed.substring(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1);
        String spaced = CAMEL.matcher(last).replaceAll(" ").toLowerCase(Locale.ROOT);
        for (String part : spaced.split("[^a-z0-9]+")) {
            if (part.isEmpty()) {
                continue;
            }
            for (String word : part.split("(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")) {
                if (WORDS.contains(word)) {
                    return true;
                }
            }
            Matcher m = FAMILY_WITH_DIGITS.matcher(part);
            if (m.matches() && FAMILIES.contains(m.group(1))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The reference's default for code models with a current {@code datasets} library (which no longer
     * loads the script-based github-code-clean): OpenCodeInstruct, concatenated, all {@code nsamples}.
     */
    public static String defaultCodeSpec(int nsamples) {
        return "opencode-instruct:concat=true:num=" + nsamples;
    }
}
