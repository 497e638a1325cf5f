using System.Globalization;
using Neurite.Backends;
using Neurite.Tests.Shared;
using Neurite.Backends.Cpu;
using Neurite.Cli.Commands;

namespace Neurite.Cli.Tests;

/// <summary>
/// The fresh process <see cref="CommandPrewarmTests"/> starts (<c>dotnet Neurite.Cli.Tests.dll classify-prewarm-probe
/// INPUTS HIDDEN CLASSES BATCH THREADS TRAINROWS</c>): as <c>neurite classify --hidden HIDDEN --batch-size BATCH --threads THREADS</c>
/// does on a run without a JIT profile, the early prewarm first, then the model built and prewarmed as the command builds
/// it for TRAINROWS training rows; once both prewarms are done, one training step on a batch of BATCH rows, then a step
/// and a prediction of each short batch the command's Fit would train or validate on (<c>SHORT n</c> lists them). Prints the prewarms started for the
/// model (<c>PREWARM key</c>) and, one per line, the CPU kernel methods the JIT compiled optimised on the training thread
/// during that step (<c>KERNEL ...</c>, read from the runtime's JIT events). <see cref="ForecastCommand"/>: the same for forecast.
/// </summary>
internal static class CommandPrewarmProbe
{
    public const string Command = "classify-prewarm-probe";

    private const string KernelNamespace = "Neurite.Backends.Cpu.Kernels";

    /// <summary>forecast's counterpart: <c>forecast-prewarm-probe INPUTS UNITS HORIZON LOOKBACK THREADS</c> runs the early prewarm
    /// for <c>neurite forecast --units UNITS --horizon HORIZON --lookback LOOKBACK --threads THREADS</c>, then builds the first
    /// network as the forecaster does for windows of INPUTS values (which the early prewarm guessed right when it is LOOKBACK).</summary>
    public const string ForecastCommand = "forecast-prewarm-probe";

    public static int Run(int inputs, string hidden, int classes, int batch, int threads, int trainRows)
    {
        using var listener = new JitListener();
        string[] args = ["classify", "data.csv", "--target", "y", "--hidden", hidden, "--batch-size", batch.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture)];
        WaitForEarlyPrewarm(args, threads);
        int[] layers = hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray();
        NeuriteRandom.SetSeed(17);
        int[] shortBatches = ClassifyCommand.ShortBatches(trainRows, batch);
        foreach (int rows in shortBatches) Console.WriteLine(FormattableString.Invariant($"SHORT {rows}"));
        var (model, prewarm) = ClassifyCommand.BuildAndPrewarm(inputs, layers, classes, batch, shortBatches);
        prewarm.Wait();
        var y = Tensor.Zeros(batch, classes);
        for (int r = 0; r < batch; r++) y.Span[r * classes + r % classes] = 1;
        return FirstStep(listener, model, inputs, layers[0], y, shortBatches);
    }

    public static int RunForecast(int inputs, int units, int horizon, int lookback, int threads)
    {
        using var listener = new JitListener();
        string[] args = ["forecast", "data.csv", "--column", "y", "--units", units.ToString(CultureInfo.InvariantCulture), "--horizon", horizon.ToString(CultureInfo.InvariantCulture),
            "--lookback", lookback.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture)];
        WaitForEarlyPrewarm(args, threads);
        NeuriteRandom.SetSeed(17);
        // As NeuralEnsemble.Train builds each member: Compile starts its prewarm.
        var model = Forecasting.NeuralEnsemble.CreateMember(inputs, units, horizon);
        model.PrewarmAsync(Forecasting.NeuralEnsemble.BatchSize).Wait();
        // Fit's first shuffle of a seeded member: what the JIT compiled on this thread for it, one per line (SHUFFLE ...).
        ShuffleMarkers.Begin();
        NeuriteRandom.Permutation(new int[Forecasting.NeuralEnsemble.BatchSize + 8]);
        ShuffleMarkers.End();
        foreach (var e in Between(listener, nameof(ShuffleMarkers)))
            Console.WriteLine($"SHUFFLE {e.Type}.{e.Name} {e.Signature}");
        var rng = new System.Random(4);
        var y = Tensor.Zeros(Forecasting.NeuralEnsemble.BatchSize, horizon);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)rng.NextDouble();
        return FirstStep(listener, model, inputs, units, y, ShortBatches);
    }

    /// <summary>The methods the JIT compiled on the thread that called <paramref name="markers"/>' Begin, up to its End (waited for).</summary>
    private static List<JitEvent> Between(JitListener listener, string markers)
    {
        bool IsMarker(JitEvent e, string name) => e.Name == name && e.Type.EndsWith(markers, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!listener.Events.Any(e => IsMarker(e, "End")) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var events = listener.Events.ToArray();
        int begin = Array.FindIndex(events, e => IsMarker(e, "Begin")), end = Array.FindIndex(events, e => IsMarker(e, "End"));
        if (begin < 0 || end < begin) throw new InvalidOperationException($"No JIT events of {markers}.");
        return events[(begin + 1)..end].Where(e => e.Thread == events[begin].Thread).ToList();
    }

    /// <summary>Marks the seeded shuffle, as <see cref="StepMarkers"/> mark the step.</summary>
    private static class ShuffleMarkers
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public static void Begin() { }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public static void End() { }
    }

    /// <summary>The short batches forecast's probe trains after its whole one: an epoch's or a validation's last batch, of lengths the data decides.</summary>
    public static readonly int[] ShortBatches = [3, 12, 19];

    // As Program does where no profile is played back; then waits for the stand-in's prewarm (a stand-in alike gets its task).
    private static void WaitForEarlyPrewarm(string[] args, int threads)
    {
        var early = EarlyPrewarm.Start(args) ?? throw new InvalidOperationException("The early prewarm did not start.");
        Backend.MaxThreads = threads;
        early.Join();
        EarlyPrewarm.Read(args)!.StandIn().PrewarmAsync().Wait();
    }

    private static int FirstStep(JitListener listener, Sequential model, int inputs, int firstUnits, Tensor y, int[]? shortBatches = null)
    {
        int batch = y.Shape[0];
        // The model's prewarms: its first layer's shape (a stand-in with other guessed widths has prewarms of its own).
        string signature = FormattableString.Invariant($"|Dense:{inputs}>{firstUnits}");
        foreach (string key in CpuBackend.StartedPrewarms.Where(k => k.Contains(signature, StringComparison.Ordinal)))
            Console.WriteLine("PREWARM " + key);

        model.Output = TextWriter.Null;
        var rng = new System.Random(3);
        var x = Tensor.Zeros(batch, inputs);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        StepMarkers.Begin();
        model.TrainOnBatch(x, y);
        // Then a step and a prediction of each short batch, on the same rows' first ones.
        foreach (int rows in shortBatches ?? [])
        {
            var (xs, ys) = (Tensor.Zeros(rows, inputs), Tensor.Zeros(rows, y.Dim(1)));
            x.Span[..xs.Size].CopyTo(xs.Span);
            y.Span[..ys.Size].CopyTo(ys.Span);
            model.TrainOnBatch(xs, ys);
            _ = model.Predict(xs, batchSize: rows);
        }
        StepMarkers.End();
        // The runtime hands its events to the listener asynchronously: wait for the end marker's.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!listener.Events.Any(e => e.Name == nameof(StepMarkers.End)) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var events = listener.Events.ToArray();
        int begin = Array.FindIndex(events, e => e.Name == nameof(StepMarkers.Begin));
        int end = Array.FindIndex(events, e => e.Name == nameof(StepMarkers.End));
        if (begin < 0 || end < 0)
        {
            Console.WriteLine("NO-EVENTS");
            return 3;
        }
        Console.WriteLine("STEP-DONE");
        foreach (var e in events[begin..end])
            if (e.Thread == events[begin].Thread && e.Type.StartsWith(KernelNamespace, StringComparison.Ordinal) && e.Optimized)
                Console.WriteLine($"KERNEL {e.Type}.{e.Name} {e.Signature}");
        return 0;
    }
}

/// <summary>The test assembly's entry point: the test runner ignores it; <see cref="CommandPrewarmProbe"/> runs through it in a child process.</summary>
public static class TestAssemblyProgram
{
    public static int Main(string[] args)
    {
        if (args.Length is not (6 or 7)) return 0;
        int Number(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
        return args[0] switch
        {
            CommandPrewarmProbe.Command when args.Length == 7 => CommandPrewarmProbe.Run(Number(1), args[2], Number(3), Number(4), Number(5), Number(6)),
            CommandPrewarmProbe.ForecastCommand when args.Length == 6 => CommandPrewarmProbe.RunForecast(Number(1), Number(2), Number(3), Number(4), Number(5)),
            _ => 0,
        };
    }
}
