package dev.jround.cli;

import dev.jround.kernel.registry.PluginRegistry;
import dev.jround.kernel.registry.ServiceLoaderRegistry;
import dev.jround.spi.JroundException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;

/**
 * {@code jround}: the command-line entry point. Sub-commands live in their own classes and are listed
 * in {@link #SUBCOMMANDS}; AutoRound-style invocations without a sub-command are routed to
 * {@code quantize}.
 */
@Command(name = "jround", mixinStandardHelpOptions = true, versionProvider = JroundCli.Version.class,
        description = "Weight-only quantization of large language models (AutoRound in Java).")
public final class JroundCli implements Runnable {

    /** Every sub-command class; add yours here. */
    static final Class<?>[] SUBCOMMANDS = {
            InspectCommand.class,
            QuantizeCommand.class,
            PluginsCommand.class,
            DatasetCommand.class,
            GenerateCommand.class,
            EvalCommand.class,
            ListCommand.class,
            ConvertCommand.class,
            DownloadCommand.class,
    };

    private static PluginRegistry registry;

    /** The registry shared by all sub-commands of this process (flat class path). */
    public static synchronized PluginRegistry registry() {
        if (registry == null) {
            registry = new ServiceLoaderRegistry(JroundCli.class.getClassLoader());
        }
        return registry;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code (0 ok, 1 run-time failure, 2 usage or configuration error). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        String only = System.getProperty("jround.command", "");
        if (!only.isBlank()) {
            return executeOnly(only, out, err, args);
        }
        CommandLine cl = commandLine(out, err);
        return cl.execute(QuantizeCommand.route(args, cl.getSubcommands().keySet()));
    }

    /**
     * One sub-command as a program of its own, named by {@code jround.program}: AutoRound's single-purpose entry
     * points (auto-round-best, -light, -rtn, -opt-rtn, -eval; set by the launchers through {@code -Djround.command})
     * take only that command's flags, without sub-command routing.
     */
    static int executeOnly(String command, PrintWriter out, PrintWriter err, String... args) {
        for (Class<?> c : SUBCOMMANDS) {
            Command a = c.getAnnotation(Command.class);
            if (a != null && a.name().equals(command)) {
                CommandLine cl = new CommandLine(c);
                cl.setCommandName(System.getProperty("jround.program", "jround-" + command));
                addHelpOption(cl);
                return configure(cl, out, err).execute(args);
            }
        }
        err.println("error: unknown command '" + command + "' in -Djround.command");
        return 2;
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new JroundCli());
        // The auto-round* launchers name themselves, so usage and errors say what the user typed.
        cl.setCommandName(System.getProperty("jround.program", "jround"));
        for (Class<?> c : SUBCOMMANDS) {
            cl.addSubcommand(c);
        }
        // 'jround help quantize', as AutoRound's 'auto_round help quantize'
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        cl.getSubcommands().values().forEach(JroundCli::addHelpOption);
        return configure(cl, out, err);
    }

    /** -h/--help on a sub-command that does not declare it (only quantize does), so every one answers it. */
    private static void addHelpOption(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        if (spec.options().stream().noneMatch(OptionSpec::usageHelp)) {
            spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        }
    }

    /** Output, parsing rules and error handling; applies to the sub-commands already added. */
    private static CommandLine configure(CommandLine cl, PrintWriter out, PrintWriter err) {
        cl.setOut(out);
        cl.setErr(err);
        parsingRules(cl);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("error: " + ex.getMessage().lines().findFirst().orElse(""));
            ex.getCommandLine().getErr().println("hint: " + usageHint(ex.getCommandLine()));
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parse) -> {
            boolean verbose = Boolean.getBoolean("jround.verbose");
            if (ex instanceof JroundException je) {
                c.getErr().println("error: " + je.getMessage());
                if (je.hint() != null) {
                    c.getErr().println("hint: " + je.hint());
                }
                if (verbose) {
                    ex.printStackTrace(c.getErr());
                }
                return je.exitCode();
            }
            c.getErr().println("error: " + ex);
            if (verbose) {
                ex.printStackTrace(c.getErr());
            } else {
                c.getErr().println("hint: run with --verbose for the stack trace");
            }
            return 1;
        });
        return cl;
    }

    /** How flags are read, shared by every command line and {@link QuantizeCommand#parse}. */
    static CommandLine parsingRules(CommandLine cl) {
        cl.setAbbreviatedOptionsAllowed(true);
        // argparse semantics: a repeated flag overrides the earlier one (picocli refuses it by default)
        cl.setOverwrittenOptionsAllowed(true);
        return cl;
    }

    /** The hint the CLI prints under a flag it cannot parse. */
    static String usageHint(CommandLine cl) {
        return "see '" + cl.getCommandSpec().qualifiedName() + " --help'";
    }

    /** Version of the CLI and kernel from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = JroundCli.class.getPackage().getImplementationVersion();
            return new String[]{"jround " + (v == null ? "0.1.0" : v)};
        }
    }
}
