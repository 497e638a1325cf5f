using System.Diagnostics;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Benchmarks;

/// <summary>
/// W3 of PERFORMANCE.md: the tutorial's stacked stateful LSTM, one epoch = 40 batches of 50 windows of
/// (10, 2), Fit(epochs: 1) then ResetStates() as the tutorial loops, on 1 and 2 threads.
/// </summary>
/// <remarks>
/// Options: <c>--quick</c> (fewer repetitions), <c>--layers</c> (also the fastest forward and backward
/// time of each layer and of the optimizer per batch, to see where an epoch goes). The same-run FMA
/// peak is measured too, since the shared machine's speed varies: the epoch's floor at that peak is
/// 8.33 GFLOP divided by it.
/// </remarks>
internal static class W3Workload
{
    private const double GflopPerEpoch = 8.33, TorchSharpMs = 104;

    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        bool layers = args.Contains("--layers");
        var (x, y) = BuildData();
        if (args.Contains("--halves-ab")) { CompareHalves(x, y, quick); return; }
        int profileAt = Array.IndexOf(args, "--train-only");
        if (profileAt >= 0) { TrainOnly(x, y, int.Parse(args[profileAt + 1]), args.Contains("--one-thread") ? 1 : 2); return; }
        Console.WriteLine("W3 stateful LSTM(100, seq) -> Dropout(0.5) -> LSTM(50) -> Dropout(0.5) -> Dense(1), MAE, Adam, 2000 samples, batch 50");
        var (peak512, peak256) = PeakWorkload.Measure();
        double peak = Math.Max(peak512 > 0 ? peak512 : peak256, 1e-9);
        Console.WriteLine($"  same-run one-core FMA peak {peak:0.0} GFLOP/s: epoch floor {GflopPerEpoch / peak * 1000:0.0} ms on one core");
        // --one-thread skips the two-thread run, e.g. to profile the one-thread pass alone.
        int[] threadCounts = args.Contains("--one-thread") ? [1] : args.Contains("--two-threads") ? [2] : [1, 2];
        foreach (int threads in threadCounts)
        {
            Threading.MaxThreads = threads;
            var model = BuildModel();
            var (median, best) = Harness.Time(() =>
            {
                model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
                model.ResetStates();
            }, repetitions: quick ? 5 : 15, repetitionSeconds: 0.001, warmupSeconds: quick ? 0.5 : 2);
            double ms = median * 1000, bestMs = best * 1000;
            Console.WriteLine($"  {threads} thread(s): {ms:0.0} ms per epoch median, {bestMs:0.0} best; {GflopPerEpoch / median:0.0} GFLOP/s median, " +
                $"{GflopPerEpoch / best:0.0} best ({GflopPerEpoch / best / (peak * threads) * 100:0} % of {threads}× same-run peak); " +
                $"TorchSharp {TorchSharpMs} ms is {TorchSharpMs / ms:0.00}x our median; 2000 epochs ≈ {ms * 2:0} s");
            var xb = x.Slice(0, 50);
            var yb = y.Slice(0, 50);
            Console.WriteLine($"    bytes allocated per training step once warm: {Harness.AllocatedBytesPerCall(() => model.TrainOnBatch(xb, yb), 50):0}");
            if (layers) PrintLayerTimes(model, xb, yb, quick ? 200 : 800);
            if (layers && threads > 1) PrintPoolCounters(model, xb, yb);
        }
        Threading.MaxThreads = 1;
    }

    /// <summary>How the worker pool behaved over 200 training steps: forks, the worker's share of parts, wakes from sleep, start delay.</summary>
    private static void PrintPoolCounters(Sequential model, Tensor xb, Tensor yb)
    {
        const int steps = 200;
        WorkerPool.ResetCounters();
        WorkerPool.Instrument = true;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) model.TrainOnBatch(xb, yb);
        double stepUs = Stopwatch.GetElapsedTime(start).TotalMicroseconds / steps;
        WorkerPool.Instrument = false;
        double forkUs = WorkerPool.ForkTicks * 1e6 / Stopwatch.Frequency / steps;
        double latencyUs = WorkerPool.StartLatencySamples == 0 ? 0
            : WorkerPool.StartLatencyTicks * 1e6 / Stopwatch.Frequency / WorkerPool.StartLatencySamples;
        Console.WriteLine($"    pool per step: {WorkerPool.Forks / (double)steps:0.0} forks, worker ran {100.0 * WorkerPool.PartsByWorkers / Math.Max(1, WorkerPool.Forks):0} % of forks' second parts, " +
            $"{WorkerPool.WorkerWakes / (double)steps:0.00} wakes from sleep; worker starts {latencyUs:0.00} µs after the fork (mean); " +
            $"{forkUs:0} of {stepUs:0} µs per step inside forks, {stepUs - forkUs:0} µs on the caller alone");
    }

    /// <summary>
    /// Only training, for a profiler: a short warm-up, then the given number of epochs, each printed; no
    /// peak measurement, so that a sampling profile shows the training alone.
    /// </summary>
    private static void TrainOnly(Tensor x, Tensor y, int epochs, int threads)
    {
        Threading.MaxThreads = threads;
        var model = BuildModel();
        var times = new List<double>();
        for (int e = 0; e < epochs; e++)
        {
            long start = Stopwatch.GetTimestamp();
            model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
            model.ResetStates();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        var sorted = times.Skip(Math.Min(5, epochs - 1)).OrderBy(t => t).ToList();
        Console.WriteLine($"  {threads} thread(s), {epochs} epochs: median {sorted[sorted.Count / 2]:0.0} ms per epoch after the first five, best {sorted[0]:0.0}");
        Threading.MaxThreads = 1;
    }

    /// <summary>Whole batches against two-half batches, 1 and 2 threads, alternating in rounds so drift hits all four alike.</summary>
    private static void CompareHalves(Tensor x, Tensor y, bool quick)
    {
        var configs = new (int Threads, bool Halves)[] { (1, false), (1, true), (2, false), (2, true) };
        var models = new Sequential[configs.Length];
        var samples = configs.Select(_ => new List<double>()).ToArray();
        for (int c = 0; c < configs.Length; c++)
        {
            Threading.MaxThreads = configs[c].Threads;
            models[c] = BuildModel();
            models[c].TrainInHalves = configs[c].Halves;
            for (int e = 0; e < 5; e++) { models[c].Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false); models[c].ResetStates(); }
        }
        int rounds = quick ? 6 : 20;
        for (int r = 0; r < rounds; r++)
            for (int c = 0; c < configs.Length; c++)
            {
                Threading.MaxThreads = configs[c].Threads;
                double best = double.MaxValue;
                for (int e = 0; e < 3; e++)
                {
                    long start = Stopwatch.GetTimestamp();
                    models[c].Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
                    models[c].ResetStates();
                    best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                samples[c].Add(best);
            }
        for (int c = 0; c < configs.Length; c++)
        {
            var sorted = samples[c].OrderBy(v => v).ToList();
            Console.WriteLine($"  {configs[c].Threads} thread(s), {(configs[c].Halves ? "two halves" : "whole batch"),-11}: median of {rounds} rounds {sorted[sorted.Count / 2]:0.0} ms per epoch, best {sorted[0]:0.0}");
        }
        Threading.MaxThreads = 1;
    }

    /// <summary>The epoch's 2000 windows of (10, 2) and their targets, uniform in [−1, 1).</summary>
    internal static (Tensor X, Tensor Y) BuildData()
    {
        var rng = new System.Random(1);
        var x = Tensor.Zeros(2000, 10, 2);
        var y = Tensor.Zeros(2000, 1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return (x, y);
    }

    internal static Sequential BuildModel()
    {
        NeuriteRandom.SetSeed(17);
        var model = new Sequential(
            new Lstm(100, returnSequences: true, stateful: true, inputShape: [10, 2], batchSize: 50),
            new Dropout(0.5),
            new Lstm(50, stateful: true),
            new Dropout(0.5),
            new Dense(1)) { Output = TextWriter.Null };
        model.Compile("mae", "adam");
        return model;
    }

    /// <summary>Fastest forward and backward time of each layer and of the optimizer, one batch at a time.</summary>
    private static void PrintLayerTimes(Sequential model, Tensor xb, Tensor yb, int batches)
    {
        for (int i = 0; i < 100; i++) model.TrainOnBatch(xb, yb);
        var layerList = model.Layers;
        int n = layerList.Count;
        var forward = new double[n];
        var backward = new double[n];
        Array.Fill(forward, double.MaxValue);
        Array.Fill(backward, double.MaxValue);
        double optimizer = double.MaxValue;
        var gradient = Tensor.Zeros(yb.Shape[0], 1);
        gradient.Span.Fill(1f / yb.Shape[0]);
        var parameters = layerList.SelectMany(l => l.Parameters).ToList();
        for (int b = 0; b < batches; b++)
        {
            Tensor a = xb;
            for (int i = 0; i < n; i++)
            {
                long start = Stopwatch.GetTimestamp();
                a = layerList[i].Forward(a, training: true);
                forward[i] = Math.Min(forward[i], Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            Tensor g = gradient;
            for (int i = n - 1; i >= 0; i--)
            {
                long start = Stopwatch.GetTimestamp();
                g = layerList[i].Backward(g);
                backward[i] = Math.Min(backward[i], Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            long optimizerStart = Stopwatch.GetTimestamp();
            model.Optimizer!.Apply(parameters);
            optimizer = Math.Min(optimizer, Stopwatch.GetElapsedTime(optimizerStart).TotalMicroseconds);
        }
        for (int i = 0; i < n; i++)
            Console.WriteLine($"      {layerList[i].GetType().Name,-8} forward {forward[i],7:0.0} µs, backward {backward[i],7:0.0} µs (fastest batch)");
        Console.WriteLine($"      optimizer {optimizer,7:0.0} µs; sum ×40 batches = {(forward.Sum() + backward.Sum() + optimizer) * 40 / 1000:0.0} ms per epoch");
    }
}
