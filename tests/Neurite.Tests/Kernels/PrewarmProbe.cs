using System.Globalization;
using Neurite.Backends;
using Neurite.Tests.Shared;
using Neurite.Layers;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The fresh process <see cref="KernelPrewarmTests"/> starts (<c>dotnet Neurite.Tests.dll prewarm-probe KIND THREADS</c>):
/// builds a small model, waits for its kernel prewarm, trains one step and prints, one per line, the CPU kernel methods
/// the JIT compiled optimised on the training thread during that step (read from the runtime's JIT events).
/// </summary>
internal static class PrewarmProbe
{
    public const string Command = "prewarm-probe";

    // The kernels' namespace: what the prewarm must have compiled.
    private const string KernelNamespace = "Neurite.Backends.Cpu.Kernels";

    public static int Run(string kind, int threads)
    {
        using var listener = new JitListener();
        Backend.PrewarmOnCompile = false;
        Backend.MaxThreads = threads;
        var (model, x, y) = Build(kind);
        if (kind == StandIn) BuildStandIn(x.Shape[0]).PrewarmAsync().Wait();
        else model.PrewarmAsync(x.Shape[0]).Wait();
        StepMarkers.Begin();
        long before = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);
        model.TrainOnBatch(x, y);
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true) - before;
        StepMarkers.End();
        // The runtime hands its events to the listener asynchronously: wait for the end marker's.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!listener.Events.Any(e => e.Name == nameof(StepMarkers.End)) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var events = listener.Events.ToArray();
        var begin = events.FirstOrDefault(e => e.Name == nameof(StepMarkers.Begin));
        int end = Array.FindIndex(events, e => e.Name == nameof(StepMarkers.End));
        if (begin is null || end < 0)
        {
            Console.WriteLine("NO-EVENTS");
            return 3;
        }
        Console.WriteLine(FormattableString.Invariant($"COMPILED-ON-THREAD {compiled}"));
        foreach (var e in events[Array.IndexOf(events, begin)..end])
            if (e.Thread == begin.Thread && e.Type.StartsWith(KernelNamespace, StringComparison.Ordinal) && e.Optimized)
                Console.WriteLine($"KERNEL {e.Type}.{e.Name} {e.Signature}");
        return 0;
    }

    internal static (Sequential Model, Tensor X, Tensor Y) Build(string kind)
    {
        NeuriteRandom.SetSeed(5);
        var (model, x, y) = kind switch
        {
            "mlp" => (new Sequential(new Dense(128, "relu", inputShape: [128]), new Dense(128, "relu"), new Dense(1)), Tensor.Zeros(64, 128), Tensor.Zeros(64, 1)),
            "classifier" => (new Sequential(new Dense(10, "relu", inputShape: [4]), new Dense(3, "softmax")), Tensor.Zeros(30, 4), Tensor.Zeros(30, 3)),
            // Few rows against a long, wide weight matrix: the forward product copies B a panel and A a tile run at a time
            // (Gemm.PackRowMajorA), and so runs the rows-contiguous kernels although A is not transposed.
            "wide" => (new Sequential(new Dense(1024, "relu", inputShape: [1024]), new Dense(1)), Tensor.Zeros(8, 1024), Tensor.Zeros(8, 1)),
            // A short batch beside wide hidden layers: the second layer's input gradient dz·Wᵀ runs swapped, as (W·dzᵀ)ᵀ
            // (Gemm.SwapsOperands).
            "swapped" => (new Sequential(new Dense(512, "relu", inputShape: [512]), new Dense(512, "relu"), new Dense(1)), Tensor.Zeros(32, 512), Tensor.Zeros(32, 1)),
            // The model the CLI's early prewarm stands in for when its guesses are right (inputs = the first layer's units, 3 classes).
            StandIn => (new Sequential(new Dense(16, "relu", inputShape: [16]), new Dense(8, "relu"), new Dense(3, "softmax")), Tensor.Zeros(24, 16), Tensor.Zeros(24, 3)),
            "lstm" => (new Sequential(new Lstm(64, inputShape: [20, 8]), new Dense(1)), Tensor.Zeros(32, 20, 8), Tensor.Zeros(32, 1)),
            // Steps whose products take the input projection (Gemm.MultiplyWithLead: T·B·4U of 1.6 M gate values), and, where the
            // L2 is large, fetch the next step's arrays as they run.
            "lstm-long" => (new Sequential(new Lstm(128, inputShape: [50, 16]), new Dense(1)), Tensor.Zeros(64, 50, 16), Tensor.Zeros(64, 1)),
            "gru-long" => (new Sequential(new Gru(128, inputShape: [50, 16]), new Dense(1)), Tensor.Zeros(64, 50, 16), Tensor.Zeros(64, 1)),
            // Reset before: its steps' products fetch lines for the passes (GruSequence.FetchesAhead) on an L2 of 1 MiB or more.
            "grubefore-long" => (new Sequential(new Gru(128, resetAfter: false, inputShape: [50, 16]), new Dense(1)), Tensor.Zeros(64, 50, 16), Tensor.Zeros(64, 1)),
            "gru" => (new Sequential(new Gru(48, inputShape: [12, 5]), new Dense(1)), Tensor.Zeros(24, 12, 5), Tensor.Zeros(24, 1)),
            "rnn" => (new Sequential(new SimpleRnn(40, inputShape: [10, 6]), new Dense(1)), Tensor.Zeros(16, 10, 6), Tensor.Zeros(16, 1)),
            _ => throw new ArgumentException($"Unknown probe model '{kind}'."),
        };
        model.Output = TextWriter.Null;
        if (kind is "classifier" or StandIn) model.Compile("categorical_crossentropy", "adam");
        else model.Compile("mse", "adam");
        var rng = new System.Random(3);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = kind is "classifier" or StandIn ? (i % 3 == i / 3 % 3 ? 1f : 0f) : (float)rng.NextDouble();
        return (model, x, y);
    }

    /// <summary>The probe kind whose prewarm is a stand-in's, as the CLI's early prewarm builds it (src/Neurite.Cli/EarlyPrewarm.cs).</summary>
    public const string StandIn = "standin";

    // Another model of the same layers, with the batch size fixed on its first layer and names of its own: its prewarm
    // must cover the first step of the model that trains, which has none of its own.
    private static Sequential BuildStandIn(int batch)
    {
        var standIn = new Sequential(
            [new Dense(16, "relu", inputShape: [16], batchSize: batch, name: "standin_dense"), new Dense(8, "relu", name: "standin_dense_1"),
             new Dense(3, "softmax", name: "standin_dense_2")], name: "standin");
        standIn.Compile("categorical_crossentropy", "adam");
        return standIn;
    }
}

/// <summary>The test assembly's entry point: the test runner ignores it; <see cref="PrewarmProbe"/> runs through it in a child process.</summary>
public static class TestAssemblyProgram
{
    public static int Main(string[] args) =>
        args.Length == 3 && args[0] == PrewarmProbe.Command ? PrewarmProbe.Run(args[1], int.Parse(args[2], CultureInfo.InvariantCulture)) : 0;
}
