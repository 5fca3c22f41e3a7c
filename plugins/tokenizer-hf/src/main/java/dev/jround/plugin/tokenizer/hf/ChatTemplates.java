package dev.jround.plugin.tokenizer.hf;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.jround.spi.InvalidInputException;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders Hugging Face chat templates (Jinja2) with Jinjava, set up as transformers sets up its sandbox:
 * {@code trim_blocks}, {@code lstrip_blocks}, no trailing newline kept, {@code raise_exception} and
 * {@code strftime_now} available, special tokens as variables.
 */
final class ChatTemplates {

    /** Python str methods that templates call, mapped to the Java String methods Jinjava can invoke. */
    private static final Map<String, String> PY_METHODS = Map.of(
            "startswith", "startsWith", "endswith", "endsWith", "lstrip", "stripLeading", "rstrip", "stripTrailing",
            "upper", "toUpperCase", "lower", "toLowerCase");
    private static final Pattern METHOD_CALL = Pattern.compile("\\.(startswith|endswith|lstrip|rstrip|upper|lower)\\(");

    private static final Jinjava JINJAVA = create();

    private ChatTemplates() {
    }

    private static Jinjava create() {
        Jinjava j = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplates.class,
                "raiseException", String.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplates.class,
                "strftimeNow", String.class));
        return j;
    }

    static String render(String template, List<Map<String, String>> messages, boolean addGenerationPrompt,
                         Map<String, String> specialTokens) {
        String source = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        source = javaMethods(source);
        Map<String, Object> context = new HashMap<>(specialTokens);
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (Map<String, String> m : messages) {
            msgs.add(new HashMap<>(m));
        }
        context.put("messages", msgs);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = JINJAVA.renderForResult(source, context);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String msg = e.getMessage();
                Throwable cause = e.getException();
                while (cause != null) {
                    if (cause instanceof TemplateRaised raised) {
                        msg = raised.getMessage();
                    }
                    cause = cause.getCause();
                }
                throw new InvalidInputException("the chat template failed: " + msg,
                        "check the roles and order of the messages the template expects");
            }
        }
        return result.getOutput();
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
