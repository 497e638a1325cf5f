using System.CommandLine;
using System.CommandLine.Help;
using Neurite.Cli.Commands;
using Neurite.Cli.Tutorial;

namespace Neurite.Cli;

/// <summary>
/// The <c>neurite</c> command line. Errors are one line on the error writer without a stack trace; the exit code
/// is 0 on success, 1 when a run fails, 2 for a usage error (unknown command, option or value), 130 when training
/// was interrupted (Ctrl+C: <paramref name="interrupt"/> of <see cref="Run(string[], TextWriter, TextWriter, CancellationToken)"/>).
/// </summary>
public static class CliApp
{
    /// <summary>Interrupted is the shell's code for a command ended by Ctrl+C (128 + SIGINT).</summary>
    public const int Success = 0, RunFailed = 1, UsageError = 2, Interrupted = 130;

    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>
    /// Runs the command line; <paramref name="interrupt"/> (Ctrl+C in <c>Program</c>) stops training between batches.
    /// The command then writes nothing more, says so in one line on the error writer and ends with <see cref="Interrupted"/>.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken interrupt)
    {
        ArgumentNullException.ThrowIfNull(args);
        var partOption = new Option<string>("--part")
        {
            Description = "Run one part only: iris, breast-cancer or ibex (default: all three, in the tutorial's order).",
            HelpName = "iris|breast-cancer|ibex",
        };
        var outOption = new Option<string>("--out")
        {
            Description = "Folder for the report (index.html and one PNG per plot); created if missing.",
            DefaultValueFactory = _ => TutorialOptions.DefaultOutputFolder,
            HelpName = "folder",
        };
        var epochsOption = new Option<int?>("--epochs")
        {
            Description = $"LSTM training epochs (default: the tutorial's {TutorialOptions.TutorialLstmEpochs}, or {TutorialOptions.QuickLstmEpochs} with --quick).",
            HelpName = "count",
            CustomParser = result => ParseWholeNumber(result, "--epochs", "--epochs 200"),
        };
        var quickOption = new Option<bool>("--quick")
        {
            Description = "A short run for trying it out: a few LSTM epochs and shorter iris and breast-cancer training.",
        };
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed of the random generator (the tutorial's set.seed).",
            DefaultValueFactory = _ => TutorialOptions.DefaultSeed,
            HelpName = "number",
            CustomParser = result => ParseWholeNumber(result, "--seed", "--seed 17") ?? TutorialOptions.DefaultSeed,
        };
        var threadsOption = new Option<int?>("--threads")
        {
            Description = $"Threads the kernels may use (default: all cores of this machine, at most {Neurite.Backends.Backend.ThreadLimit}).",
            HelpName = "count",
            CustomParser = result => ParseWholeNumber(result, "--threads", "--threads 2") is int t ? WithinThreadLimit(result, t) : null,
        };

        var deviceOption = DeviceChoice.CreateOption();
        var tutorial = new Command("tutorial", "Runs the tutorial \"LSTM with Keras & TensorFlow\" on the embedded data and writes an HTML report.")
        {
            partOption, outOption, epochsOption, quickOption, seedOption, threadsOption, deviceOption,
        };
        int exitCode = Success;
        tutorial.SetAction(parsed =>
        {
            TutorialOptions options;
            try
            {
                options = new TutorialOptions
                {
                    Parts = ParseParts(parsed.GetValue(partOption)),
                    OutputFolder = parsed.GetValue(outOption) ?? TutorialOptions.DefaultOutputFolder,
                    LstmEpochs = parsed.GetValue(epochsOption),
                    Quick = parsed.GetValue(quickOption),
                    Seed = parsed.GetValue(seedOption),
                    Threads = parsed.GetValue(threadsOption) ?? DefaultThreads,
                    LiveProgress = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected,
                    Interrupt = interrupt,
                };
                options.Validate();
                ReportFolder.Check(options.OutputFolder);
            }
            catch (Exception e) when (e is TutorialOptionsException or UserInputException)
            {
                error.WriteLine($"neurite tutorial: {e.Message}");
                exitCode = UsageError;
                return;
            }
            bool deviceUsable = DeviceChoice.TryRunOn(parsed.GetValue(deviceOption), "tutorial", error, () =>
            {
                try
                {
                    new TutorialRunner(options, output).Run();
                }
                catch (OperationCanceledException e) when (interrupt.IsCancellationRequested)
                {
                    output.WriteLine();
                    error.WriteLine($"neurite tutorial: {e.Message}");
                    exitCode = Interrupted;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    output.WriteLine();
                    error.WriteLine($"neurite tutorial failed: {e.Message}");
                    exitCode = RunFailed;
                }
            });
            if (!deviceUsable) exitCode = UsageError;
        });

        // A plain command rather than RootCommand, which would name itself after the assembly (Neurite.Cli) in help.
        var root = new Command("neurite", "Neurite: Keras-style deep learning for .NET. Runs the tutorial end to end, or its recipes on your own CSV.\n" +
            $"Each command that trains or predicts keeps a JIT profile in your cache folder (~/.cache/neurite), so that its next run compiles on a second core what it needs; set {JitProfile.OptOutVariable}=1 to turn that off.") { tutorial };
        foreach (var command in DataCommands.Create(output, error, code => exitCode = code, interrupt)) root.Subcommands.Add(command);
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        var parseResult = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parseResult.Errors.Count > 0)
        {
            string command = parseResult.CommandResult.Command == root ? "" : " " + parseResult.CommandResult.Command.Name;
            error.WriteLine($"neurite: {parseResult.Errors[0].Message} Run 'neurite{command} --help' for the options.");
            return UsageError;
        }
        int invoked = parseResult.Invoke(new InvocationConfiguration { Output = output, Error = error });
        return exitCode != Success ? exitCode : invoked;
    }

    // The library's own message names the CLR type (System.Nullable`1[System.Int32]); this one names the option.
    internal static int? ParseWholeNumber(System.CommandLine.Parsing.ArgumentResult result, string option, string example)
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(token, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value))
            return value;
        result.AddError($"{option} must be a whole number; received '{token}'. Use e.g. {example}.");
        return null;
    }

    /// <summary>
    /// The --threads default: every core, but no more than the kernels take (<see cref="Neurite.Backends.Backend.ThreadLimit"/>),
    /// so a machine with more cores than that still runs with default options.
    /// </summary>
    internal static int DefaultThreads => Math.Clamp(Environment.ProcessorCount, 1, Neurite.Backends.Backend.ThreadLimit);

    /// <summary><paramref name="threads"/>, or an error naming the limit when the kernels cannot take that many.</summary>
    internal static int? WithinThreadLimit(System.CommandLine.Parsing.ArgumentResult result, int threads)
    {
        if (threads <= Neurite.Backends.Backend.ThreadLimit) return threads;
        result.AddError($"--threads must be at most {Neurite.Backends.Backend.ThreadLimit}, the most threads the kernels use; received {threads}. Use e.g. --threads {DefaultThreads}, or leave it out to use every core up to {Neurite.Backends.Backend.ThreadLimit}.");
        return null;
    }

    internal static IReadOnlyList<TutorialPart> ParseParts(string? part) => part?.Trim().ToLowerInvariant() switch
    {
        null or "" or "all" => [TutorialPart.Iris, TutorialPart.BreastCancer, TutorialPart.Ibex],
        "iris" => [TutorialPart.Iris],
        "breast-cancer" or "breastcancer" => [TutorialPart.BreastCancer],
        "ibex" or "ibex35" => [TutorialPart.Ibex],
        _ => throw new TutorialOptionsException($"--part '{part}' is not a part of the tutorial. Use iris, breast-cancer or ibex, or leave --part out to run all three."),
    };
}
