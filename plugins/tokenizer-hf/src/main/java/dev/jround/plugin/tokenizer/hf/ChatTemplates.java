package dev.jround.plugin.tokenizer.hf;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.tree.Node;
import dev.jround.spi.InvalidInputException;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders Hugging Face chat templates (Jinja2) with Jinjava, set up as transformers sets up its sandbox:
 * {@code trim_blocks}, {@code lstrip_blocks}, no trailing newline kept, {@code raise_exception} and
 * {@code strftime_now} available, special tokens as variables.
 *
 * <p>A template is code from the model's files, so it runs in a box (docs/models.md, "Chat template limits"):
 * at most {@link Limits#DEFAULT} steps, time and output per render, no file or class-path access
 * ({@code include}, {@code import}, {@code from}, {@code extends} are disabled and the resource locator finds
 * nothing), and every failure becomes one {@link InvalidInputException} naming the template.
 */
final class ChatTemplates {

    /** Python str methods that templates call, mapped to the Java String methods Jinjava can invoke. */
    private static final Map<String, String> PY_METHODS = Map.of(
            "startswith", "startsWith", "endswith", "endsWith", "lstrip", "stripLeading", "rstrip", "stripTrailing",
            "upper", "toUpperCase", "lower", "toLowerCase");
    private static final Pattern EXCEPTION_NAME = Pattern.compile("\\b[\\w.$]*(Exception|Error): ");
    private static final Pattern METHOD_CALL = Pattern.compile("\\.(startswith|endswith|lstrip|rstrip|upper|lower)\\(");

    /** The tags that read other templates (through the resource locator): a chat template is self-contained. */
    private static final Set<String> FILE_TAGS = Set.of("include", "import", "from", "extends");

    /** The budget of the render running on this thread; the node pre-processor charges it. */
    private static final ThreadLocal<Budget> BUDGET = new ThreadLocal<>();

    private static final Jinjava JINJAVA = create();

    private ChatTemplates() {
    }

    /**
     * Per-render limits. {@code maxNodes}: tags, expressions and text pieces rendered (loop bodies count every
     * iteration); {@code maxMillis}: wall-clock time; {@code maxChars}: output and string length.
     */
    record Limits(long maxNodes, long maxMillis, long maxChars) {
        /** Far above any real prompt (a long chat renders a few thousand nodes in milliseconds). */
        static final Limits DEFAULT = new Limits(1_000_000, 10_000, 16L << 20);
    }

    private static Jinjava create() {
        JinjavaConfig config = JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withMaxOutputSize(Limits.DEFAULT.maxChars()).withMaxStringLength(Limits.DEFAULT.maxChars())
                // beyond the node budget anyway; Jinjava silently shortens a longer range, so keep it out of reach
                .withRangeLimit(1_000_000).withMaxListSize(1_000_000).withMaxMapSize(1_000_000)
                .withMaxRenderDepth(10).withMaxMacroRecursionDepth(100)
                .withDisabled(Map.of(Context.Library.TAG, FILE_TAGS))
                .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(ChatTemplates::charge).build())
                .build();
        Jinjava j = new Jinjava(config);
        // the default locator reads the Java class path
        j.setResourceLocator((name, encoding, interpreter) -> {
            throw new ResourceNotFoundException("chat templates cannot read other files (" + name + ")");
        });
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplates.class,
                "raiseException", String.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplates.class,
                "strftimeNow", String.class));
        return j;
    }

    static String render(String name, String template, List<Map<String, String>> messages,
                         boolean addGenerationPrompt, Map<String, String> specialTokens) {
        return render(name, template, messages, addGenerationPrompt, specialTokens, Limits.DEFAULT);
    }

    /** Renders {@code template} (read from {@code name}, which error messages quote) within {@code limits}. */
    static String render(String name, String template, List<Map<String, String>> messages,
                         boolean addGenerationPrompt, Map<String, String> specialTokens, Limits limits) {
        String source = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        source = javaMethods(source);
        Map<String, Object> context = new HashMap<>(specialTokens);
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (Map<String, String> m : messages) {
            msgs.add(new HashMap<>(m));
        }
        context.put("messages", msgs);
        context.put("add_generation_prompt", addGenerationPrompt);
        Budget budget = new Budget(limits);
        RenderResult result;
        BUDGET.set(budget);
        try {
            result = JINJAVA.renderForResult(source, context);
        } catch (LimitExceeded e) {
            throw failure(name, e.getMessage());
        } finally {
            BUDGET.remove();
        }
        if (budget.exceeded != null) {
            throw failure(name, budget.exceeded);
        }
        for (TemplateError e : result.getErrors()) {
            String what = problem(e, limits);
            if (what != null) {
                throw failure(name, what);
            }
        }
        String out = result.getOutput();
        if (out.length() > limits.maxChars()) {
            throw failure(name, "renders more than " + limits.maxChars() + " characters");
        }
        return out;
    }

    /** What went wrong, or null for a harmless warning (the template rendered as Jinja2 would). */
    private static String problem(TemplateError e, Limits limits) {
        String at = e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "";
        String tooBig = "renders more than " + limits.maxChars() + " characters or builds too large a value" + at;
        // the reason Jinjava records is often the wrapper's (EXCEPTION); the cause says what happened
        for (Throwable c = e.getException(); c != null; c = c.getCause()) {
            if (c instanceof TemplateRaised raised) {
                return "raised: " + raised.getMessage();
            }
            if (c instanceof OutputTooBigException || c instanceof CollectionTooBigException) {
                return tooBig;
            }
            if (c instanceof LimitExceeded limit) {
                return limit.getMessage();
            }
        }
        return switch (e.getReason()) {
            case DISABLED, MISSING, BAD_URL -> "reads another file" + at
                    + "; include, import, from and extends are not allowed in a chat template";
            case OUTPUT_TOO_BIG, OVER_LIMIT, COLLECTION_TOO_BIG -> tooBig;
            default -> e.getSeverity() == TemplateError.ErrorType.FATAL ? "failed" + at + ": " + plain(e.getMessage())
                    : null;
        };
    }

    /** Jinjava's message without the Java exception names it strings together. */
    private static String plain(String message) {
        String m = message == null ? "" : EXCEPTION_NAME.matcher(message).replaceAll("");
        return m.isBlank() ? "invalid template" : m.strip();
    }

    private static InvalidInputException failure(String name, String what) {
        return new InvalidInputException("chat template of " + name + " " + what,
                what.startsWith("raised") ? "check the roles and order of the messages the template expects"
                        : "fix the template (jround renders Jinja chat templates in a box: no files, bounded "
                        + "time and size); see docs/models.md");
    }

    /** Node pre-processor: charges one step, stops the render past the budget or the deadline. */
    private static void charge(Node node, JinjavaInterpreter interpreter) {
        Budget b = BUDGET.get();
        if (b == null || b.exceeded != null) {
            return;
        }
        if (++b.nodes > b.limits.maxNodes()) {
            b.exceeded = "stopped after " + b.limits.maxNodes() + " steps (a loop far too long for a prompt)";
        } else if (System.nanoTime() > b.deadline) {
            b.exceeded = "took longer than " + b.limits.maxMillis() + " ms";
        } else {
            return;
        }
        // Jinjava turns most exceptions into collected errors and renders on; this one reaches the top because
        // pre-processing runs outside the nodes' own error handling, and the budget records why in any case
        throw new LimitExceeded(b.exceeded);
    }

    private static final class Budget {
        final Limits limits;
        final long deadline;
        long nodes;
        String exceeded;

        Budget(Limits limits) {
            this.limits = limits;
            this.deadline = System.nanoTime() + limits.maxMillis() * 1_000_000L;
        }
    }

    /** Thrown by the pre-processor once a render is over its budget. */
    static final class LimitExceeded extends RuntimeException {
        LimitExceeded(String message) {
            super(message, null, false, false);
        }
    }

    private static String javaMethods(String source) {
        Matcher m = METHOD_CALL.matcher(source);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, "." + PY_METHODS.get(m.group(1)) + "(");
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** {@code raise_exception(msg)} of transformers' template sandbox. */
    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** {@code strftime_now(format)}: the current local time in a Python strftime format (common codes). */
    public static String strftimeNow(String format) {
        LocalDateTime now = LocalDateTime.now();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char code = format.charAt(++i);
            String pattern = switch (code) {
                case 'Y' -> "yyyy";
                case 'm' -> "MM";
                case 'd' -> "dd";
                case 'H' -> "HH";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'B' -> "MMMM";
                case 'b' -> "MMM";
                case 'A' -> "EEEE";
                case 'a' -> "EEE";
                default -> null;
            };
            out.append(pattern == null ? "%" + code : now.format(DateTimeFormatter.ofPattern(pattern, java.util.Locale.ROOT)));
        }
        return out.toString();
    }

    /** The exception raise_exception throws, recognised again when Jinjava reports the failure. */
    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }
}
