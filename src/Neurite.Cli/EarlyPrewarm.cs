using System.Globalization;
using Neurite.Backends;
using Neurite.Cli.Commands;

namespace Neurite.Cli;

/// <summary>
/// Starts the kernel prewarm (<see cref="Sequential.PrewarmAsync(int?)"/>) for the model <c>classify</c> will train first
/// thing in <c>Main</c>, before the arguments are parsed and the CSV read: a background thread builds a stand-in of that
/// model from what the command line already says (the hidden layers, the batch size, the threads) and starts its prewarm,
/// so that the kernels of the first training step are compiled on a second core during the ~100 ms the tool spends
/// before training, instead of on the training thread (issue 14; bench/results/cold-start-s6.md). Started only where
/// no JIT profile is played back (<see cref="JitProfile"/>): a recorded profile compiles the same kernels, and the two
/// together measured no faster first steps than the profile alone.
/// </summary>
/// <remarks>
/// The data's widths are not known yet: the stand-in takes as many inputs as its first hidden layer has units and
/// <see cref="GuessedClasses"/> classes. The real model's own prewarm, started when it is built, compiles what those
/// guesses missed (the first layer's and the output layer's products where their shapes pick other kernels) and finds
/// the rest compiled. Nothing here may change a result or fail the command: the stand-in draws its weights from the
/// unseeded generator (the command seeds its own afterwards, on its own thread), a command line this cannot read starts
/// nothing, and any failure only leaves the first step to compile what it needs, as without it.
/// </remarks>
internal static class EarlyPrewarm
{
    /// <summary>The stand-in's classes: a guess, refined by the real model's prewarm.</summary>
    internal const int GuessedClasses = 3;

    // 16 MB of weights (or activations) in one matrix: far above the kernels' shapes, far below a strain on memory.
    private const long MaxStandInWeights = 1 << 22;

    /// <summary>What the command line says about the model to prewarm: null when the command trains no MLP on the CPU.</summary>
    internal sealed record Plan(int[] Hidden, int BatchSize, int? Threads);

    /// <summary>Starts the stand-in's prewarm for the command in <paramref name="args"/>, if it has one; never throws.</summary>
    public static Thread? Start(string[] args)
    {
        try
        {
            if (Read(args) is not { } plan) return null;
            // Set here, before the stand-in is compiled, so that its prewarm lists the kernels for the threads the run will
            // use; the command sets the same value again when it parses its options.
            if (plan.Threads is int threads) Backend.MaxThreads = threads;
            var thread = new Thread(() => Prewarm(plan)) { IsBackground = true, Name = "neurite early prewarm" };
            thread.Start();
            return thread;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>The model <paramref name="args"/> will train, read without the parser; null when there is none to prewarm.</summary>
    internal static Plan? Read(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] != "classify") return null;
        if (args.Any(a => a is "--help" or "-h" or "-?" or "/?" or "/h" or "--version")) return null;
        // Another device trains elsewhere; its CPU kernels would be compiled for nothing.
        if (Value(args, "--device") is string device && !device.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return null;
        int[] hidden = Sizes(Value(args, "--hidden")) ?? [.. ClassifyOptions.DefaultHidden];
        int batch = Positive(Value(args, "--batch-size")) ?? ClassifyOptions.DefaultBatchSize;
        int? threads = Positive(Value(args, "--threads")) is int t && t <= Backend.ThreadLimit ? t : null;
        // A model too large to build in passing is left to the command, which checks the memory it needs first.
        long widest = hidden.Prepend(hidden[0]).Zip(hidden.Append(GuessedClasses), (a, b) => (long)a * b).Max();
        if (widest > MaxStandInWeights || (long)batch * hidden.Max() > MaxStandInWeights) return null;
        return new Plan(hidden, batch, threads);
    }

    /// <summary>The model <paramref name="plan"/> describes, with the guessed widths and the plan's batch size fixed.</summary>
    internal static Sequential StandIn(Plan plan) => ClassifyCommand.BuildModel(plan.Hidden[0], plan.Hidden, GuessedClasses, standInBatch: plan.BatchSize);

    private static void Prewarm(Plan plan)
    {
        try
        {
            // For the stand-in's fixed batch size; the same prewarm Compile starts unless that is turned off.
            _ = StandIn(plan).PrewarmAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A stand-in the library refuses (e.g. sizes too large to allocate): the real model's prewarm still runs.
        }
    }

    // The option's value, as "--name value", "--name=value" or "--name:value"; the last one given.
    private static string? Value(IReadOnlyList<string> args, string name)
    {
        string? value = null;
        for (int i = 1; i < args.Count; i++)
        {
            if (args[i] == name && i + 1 < args.Count) value = args[i + 1];
            else if (args[i].Length > name.Length + 1 && args[i].StartsWith(name, StringComparison.Ordinal) && args[i][name.Length] is '=' or ':')
                value = args[i][(name.Length + 1)..];
        }
        return value;
    }

    private static int? Positive(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;

    // "8,5"; anything else is left to the command's own error.
    private static int[]? Sizes(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (Positive(parts[i]) is int size) sizes[i] = size;
            else return null;
        return sizes;
    }
}
