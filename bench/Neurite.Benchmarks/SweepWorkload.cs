using System.Diagnostics;
using System.Globalization;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Benchmarks;

/// <summary>
/// The size sweep of issue 14: one training step (<c>TrainOnBatch</c>) of LSTM/GRU/SimpleRNN(U) over T steps
/// of D features, batch B, then Dense(1), MSE, Adam; and of a Dense MLP (U → U relu → U relu → 1). Per point
/// and thread count: ms per step (median and fastest), GFLOP/s, % of the one-core FMA peak measured right
/// beside the point (so both are slowed alike on a shared machine), bytes allocated per step, and the
/// two-thread speed-up (the thread counts timed in alternating rounds), with what else the CPUs did meanwhile
/// (<see cref="HostCpu"/>). FLOP = 3 × the forward products (the issue's count: it includes the first layer's input gradient,
/// which no step computes; a sixth of the MLP's count, D/(D+U)/3 of a recurrent layer's).
/// </summary>
/// <remarks>
/// Options: <c>--quick</c> (fewer points and repetitions), <c>--threads 1,2</c>, <c>--kind lstm,gru,grubefore,rnn,mlp</c>,
/// <c>--point lstm:U,B,T,D</c> (repeatable; replaces the grid), <c>--cold</c> (the cold-start figure instead, see
/// <see cref="ColdStart"/>), <c>--thread-cpu [--steps N]</c> (two threads' gain from each thread's CPU time, see
/// <see cref="ThreadCpuScaling"/>), <c>--soak S</c> (each point trained on one thread for S seconds of thread CPU, for a
/// profiler: <c>perf record -D</c> past the build, with <c>DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0</c>).
/// </remarks>
internal static class SweepWorkload
{
    // GruBefore: a GRU with Keras's reset_after = false (the reset gate before the recurrent product).
    internal enum Kind { Lstm, Gru, GruBefore, Rnn, Mlp }

    internal readonly record struct Point(Kind Kind, int Units, int Batch, int Steps, int Features)
    {
        public override string ToString() => Kind == Kind.Mlp
            ? $"mlp       U={Units,4} B={Batch,3}"
            : $"{Kind.ToString().ToLowerInvariant(),-9} U={Units,4} B={Batch,3} T={Steps,3} D={Features,2}";

        /// <summary>3 × the forward products: 2·B·T·(D+U)·gates·U for a recurrent layer, 2·B·(U·U + U·U + U) for the MLP.</summary>
        public double FlopPerStep => Kind switch
        {
            Kind.Mlp => 3.0 * 2 * Batch * (2.0 * Units * Units + Units),
            _ => 3.0 * 2 * Batch * Steps * (double)(Features + Units) * Gates * Units,
        };

        private int Gates => Kind switch { Kind.Lstm => 4, Kind.Gru or Kind.GruBefore => 3, _ => 1 };

        public static Point Parse(string text)
        {
            var parts = text.Split(':', 2);
            var kind = Enum.Parse<Kind>(parts[0], ignoreCase: true);
            var n = parts[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            return kind == Kind.Mlp ? new Point(kind, n[0], n[1], 1, n[0]) : new Point(kind, n[0], n[1], n[2], n[3]);
        }
    }

    // The quick grid: every kind at the issue's shapes, B·U from 16·32 to 512·1024, about a minute per thread
    // count on a quiet 150 GFLOP/s core. The full grid adds the long sequences, the largest products and a GRU whose gradients turn subnormal.
    private static readonly Point[] QuickGrid =
    [
        new(Kind.Lstm, 32, 16, 10, 16), new(Kind.Lstm, 64, 32, 20, 8), new(Kind.Lstm, 64, 512, 10, 16),
        new(Kind.Lstm, 128, 64, 50, 16), new(Kind.Lstm, 128, 16, 200, 16), new(Kind.Lstm, 256, 128, 50, 16),
        new(Kind.Lstm, 256, 256, 50, 16), new(Kind.Lstm, 512, 256, 10, 32), new(Kind.Lstm, 1024, 64, 10, 32),
        new(Kind.Gru, 128, 64, 50, 16), new(Kind.Gru, 256, 256, 50, 16), new(Kind.Gru, 512, 256, 10, 32),
        new(Kind.GruBefore, 128, 64, 50, 16), new(Kind.GruBefore, 256, 256, 50, 16), new(Kind.GruBefore, 512, 256, 10, 32),
        new(Kind.Rnn, 256, 256, 50, 16), new(Kind.Rnn, 512, 256, 10, 32),
        new(Kind.Mlp, 128, 64, 1, 128), new(Kind.Mlp, 512, 256, 1, 512), new(Kind.Mlp, 1024, 512, 1, 1024),
    ];

    private static readonly Point[] FullExtra =
    [
        new(Kind.Lstm, 128, 256, 200, 16), new(Kind.Lstm, 256, 64, 200, 16), new(Kind.Lstm, 512, 512, 10, 32),
        new(Kind.Lstm, 512, 256, 50, 32), new(Kind.Lstm, 1024, 256, 10, 32),
        new(Kind.Gru, 1024, 64, 10, 32), new(Kind.Rnn, 1024, 256, 10, 32),
        // Its gradients vanish through 200 steps into subnormal floats, which this point times (bench/results/sweep-s12.md).
        new(Kind.Gru, 128, 16, 200, 16),
        new(Kind.Mlp, 256, 16, 1, 256), new(Kind.Mlp, 1024, 64, 1, 1024), new(Kind.Mlp, 512, 512, 1, 512),
    ];

    public static void Run(string[] args)
    {
        if (args.Contains("--cold")) { ColdStart.Run(args); return; }
        bool quick = args.Contains("--quick");
        // --cpu: one thread, steps timed in thread CPU time against a peak taken the same way (repeatable while
        // other processes share the machine; two threads cannot be judged that way).
        bool cpu = args.Contains("--cpu");
        var threadCounts = Option(args, "--threads")?.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() ?? [1, 2];
        var kinds = Option(args, "--kind")?.Split(',').Select(s => Enum.Parse<Kind>(s, ignoreCase: true)).ToHashSet();
        var explicitPoints = args.Select((a, i) => (a, i)).Where(t => t.a == "--point").Select(t => Point.Parse(args[t.i + 1])).ToList();
        IEnumerable<Point> points = explicitPoints.Count > 0 ? explicitPoints : quick ? QuickGrid : [.. QuickGrid, .. FullExtra];
        if (kinds != null) points = points.Where(p => kinds.Contains(p.Kind));
        if (cpu) threadCounts = [1];
        if (args.Contains("--thread-cpu"))
        {
            WarmUp([1, 2]);
            ThreadCpuScaling.Run(points, int.Parse(Option(args, "--steps") ?? (quick ? "8" : "15"), CultureInfo.InvariantCulture));
            return;
        }

        if (Option(args, "--soak") is string soak)
        {
            Soak([.. points], double.Parse(soak, CultureInfo.InvariantCulture));
            return;
        }

        Console.WriteLine("Sweep: TrainOnBatch of layer(U) over (B, T, D) -> Dense(1), MSE, Adam (mlp: Dense(U relu) x2 -> Dense(1)); FLOP = 3 x forward products");
        Console.WriteLine("  the count includes the first layer's input gradient, which the step skips: an MLP's % reads up to 1.2 x its executed rate");
        Console.WriteLine("  peak = one-core FMA peak (widest accelerated vectors) measured right beside each point; % at the fastest step (median step)");
        WarmUp(threadCounts);
        if (cpu) Console.WriteLine("  --cpu: one thread, thread CPU time per step and for the peak; paired %: each step against the FMA chains run for as\n" +
            "  long right after it, the median over steps (in brackets: the fastest step over the fastest such slice)");
        else Console.WriteLine("  thread counts timed in alternating rounds on one model; steal % / others %: the share of all CPUs' time the hypervisor ran\n" +
            "  something else / other processes here used, over the timed steps (/proc/stat): a two-thread reading is only as good as both are low");
        Console.WriteLine($"  {"point",-38} thr  median ms    best ms   GFLOP/s  % of thr x peak   B/step   x 1 thr        steal % others %{(cpu ? "   paired % (fastest)" : "")}");
        foreach (var point in points)
        {
            var results = cpu ? [MeasureCpu(point, quick)] : MeasureAlternating(point, threadCounts, quick);
            double oneThreadBest = 0, oneThreadMedian = 0;
            for (int i = 0; i < results.Length; i++)
            {
                var r = results[i];
                int threads = cpu ? 1 : threadCounts[i];
                double gflopBest = point.FlopPerStep / r.Best / 1e9, gflopMedian = point.FlopPerStep / r.Median / 1e9;
                string speedup = "";
                if (threads == 1) { oneThreadBest = r.Best; oneThreadMedian = r.Median; }
                else if (oneThreadBest > 0) speedup = $"{oneThreadBest / r.Best:0.00} ({oneThreadMedian / r.Median:0.00})";
                string paired = cpu ? $"   {r.PairedShare * 100,3:0} % ({r.FastestShare * 100,3:0} %)" : "";
                Console.WriteLine($"  {point,-38} {threads,3} {r.Median * 1e3,10:0.000} {r.Best * 1e3,10:0.000} {gflopBest,9:0.0}  " +
                    $"{gflopBest / (r.Peak * threads) * 100,5:0} % ({gflopMedian / (r.Peak * threads) * 100,3:0} %) {r.BytesPerStep,9:0}   {speedup,-12}  {r.Host}{paired}");
            }
        }
        Threading.MaxThreads = 1;
    }

    /// <summary>Small models of every kind train for a while first, so that the first point does not pay for
    /// the JIT's tiering (the cold-start figure is measured on its own, in fresh processes).</summary>
    private static void WarmUp(int[] threadCounts)
    {
        foreach (int threads in threadCounts)
        {
            Threading.MaxThreads = threads;
            foreach (var kind in Enum.GetValues<Kind>())
            {
                var (model, x, y) = Build(new Point(kind, 48, 32, 8, 8));
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < 0.4) model.TrainOnBatch(x, y);
            }
        }
    }

    /// <summary>
    /// Trains each point on one thread for about <paramref name="seconds"/> of thread CPU time after a few warm steps, printing
    /// when the steady steps start and end: a profiler attached for that window (<c>perf record -D</c>) sees only training steps.
    /// </summary>
    private static void Soak(List<Point> points, double seconds)
    {
        Threading.MaxThreads = 1;
        foreach (var point in points)
        {
            var (model, x, y) = Build(point);
            for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
            Console.WriteLine($"{point}: steady steps from {DateTime.UtcNow:HH:mm:ss.fff}");
            double start = Harness.ThreadCpuMs();
            var times = new List<double>();
            while (Harness.ThreadCpuMs() - start < seconds * 1e3)
            {
                double t0 = Harness.ThreadCpuMs();
                model.TrainOnBatch(x, y);
                times.Add(Harness.ThreadCpuMs() - t0);
            }
            times.Sort();
            Console.WriteLine($"{point}: {times.Count} steps until {DateTime.UtcNow:HH:mm:ss.fff}, thread CPU ms per step: median {times[times.Count / 2]:0.000}, fastest {times[0]:0.000}, slowest {times[^1]:0.000}");
        }
    }

    internal static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <param name="PairedShare">--cpu: the median over steps of a step's rate over the chains' rate in the slice of equal CPU
    /// time run right after it (NaN otherwise).</param>
    /// <param name="FastestShare">--cpu: the fastest step's rate over the fastest of those slices.</param>
    private readonly record struct Reading(double Median, double Best, double Peak, double BytesPerStep, string Host,
        double PairedShare = double.NaN, double FastestShare = double.NaN);

    /// <summary>
    /// One model timed on each thread count in alternating rounds (1, 2, 1, 2, …), so that every count sees the same
    /// host: on two shared vCPUs a one-thread reading and a two-thread reading taken seconds apart can differ by the
    /// host alone. Fastest step over all rounds; median of the rounds' medians; steal and other processes' share of
    /// the CPUs over each count's timed windows.
    /// </summary>
    private static Reading[] MeasureAlternating(Point point, int[] threadCounts, bool quick)
    {
        var (model, x, y) = Build(point);
        int rounds = quick ? 3 : 4;
        var medians = threadCounts.Select(_ => new List<double>()).ToArray();
        var best = threadCounts.Select(_ => double.MaxValue).ToArray();
        var host = threadCounts.Select(_ => new HostCpu.Tally()).ToArray();
        double peak = PeakWorkload.QuickPeak();
        var callsPerSample = new long[threadCounts.Length];
        for (int c = 0; c < threadCounts.Length; c++)
        {
            Threading.MaxThreads = threadCounts[c];
            var (warmMedian, _) = Harness.Time(() => model.TrainOnBatch(x, y), repetitions: 1, warmupSeconds: quick ? 0.3 : 1);
            callsPerSample[c] = Math.Max(1, (long)(0.01 / Math.Max(warmMedian, 1e-9)));
        }
        var samples = new double[quick ? 3 : 4];
        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < threadCounts.Length; c++)
            {
                Threading.MaxThreads = threadCounts[c];
                model.TrainOnBatch(x, y); // untimed: the first step after a switch wakes or parks the worker
                var before = HostCpu.Read();
                for (int r = 0; r < samples.Length; r++)
                {
                    long start = Stopwatch.GetTimestamp();
                    for (long i = 0; i < callsPerSample[c]; i++) model.TrainOnBatch(x, y);
                    samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / callsPerSample[c];
                }
                host[c].Add(before, HostCpu.Read());
                Array.Sort(samples);
                medians[c].Add(samples[samples.Length / 2]);
                best[c] = Math.Min(best[c], samples[0]);
            }
        }
        peak = Math.Max(Math.Max(peak, PeakWorkload.QuickPeak()), 1e-9);
        var readings = new Reading[threadCounts.Length];
        for (int c = 0; c < threadCounts.Length; c++)
        {
            Threading.MaxThreads = threadCounts[c];
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            const int allocationSteps = 3;
            for (int i = 0; i < allocationSteps; i++) model.TrainOnBatch(x, y);
            double bytes = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / allocationSteps;
            medians[c].Sort();
            readings[c] = new Reading(medians[c][medians[c].Count / 2], best[c], peak, bytes, host[c].Text);
        }
        Threading.MaxThreads = 1;
        return readings;
    }

    private static Reading MeasureCpu(Point point, bool quick)
    {
        Threading.MaxThreads = 1;
        var (model, x, y) = Build(point);
        var before = HostCpu.Read();
        var host = new HostCpu.Tally();
        double peak = PeakWorkload.QuickPeakCpu();
        // Warm for a second of CPU or at least three steps, then single steps in thread CPU time.
        double warmStart = Harness.ThreadCpuMs();
        for (int i = 0; i < 3 || Harness.ThreadCpuMs() - warmStart < (quick ? 300 : 1000); i++) model.TrainOnBatch(x, y);
        int calls = (int)Math.Clamp((quick ? 0.3 : 1.0) * peak * 1e9 * 0.5 / point.FlopPerStep, 5, 200);
        // Each step is followed by the FMA chains for as long as the step took: this host's one-core rate moves within
        // milliseconds (`peak --trace`), so a peak of short slices taken before the point and the point's long steps
        // may not see the same clock; a step and the slice beside it do.
        var steps = new double[calls];
        var shares = new double[calls];
        double fastestSlice = 0;
        for (int i = 0; i < calls; i++)
        {
            double start = Harness.ThreadCpuMs();
            model.TrainOnBatch(x, y);
            steps[i] = (Harness.ThreadCpuMs() - start) / 1e3;
            double slice = PeakWorkload.ChainsRateCpu(steps[i], peak);
            fastestSlice = Math.Max(fastestSlice, slice);
            shares[i] = point.FlopPerStep / steps[i] / 1e9 / slice;
        }
        host.Add(before, HostCpu.Read());
        Array.Sort(steps);
        Array.Sort(shares);
        double median = steps[calls / 2], best = steps[0];
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
        double bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / 3.0;
        return new Reading(median, best, Math.Max(peak, 1e-9), bytes, host.Text, shares[calls / 2], point.FlopPerStep / best / 1e9 / fastestSlice);
    }

    /// <summary>A compiled model for the point and one batch of seeded random inputs and targets.</summary>
    internal static (Sequential Model, Tensor X, Tensor Y) Build(Point point)
    {
        NeuriteRandom.SetSeed(17);
        Layer first = point.Kind switch
        {
            Kind.Lstm => new Lstm(point.Units, inputShape: [point.Steps, point.Features]),
            Kind.Gru => new Gru(point.Units, inputShape: [point.Steps, point.Features]),
            Kind.GruBefore => new Gru(point.Units, resetAfter: false, inputShape: [point.Steps, point.Features]),
            Kind.Rnn => new SimpleRnn(point.Units, inputShape: [point.Steps, point.Features]),
            _ => new Dense(point.Units, "relu", inputShape: [point.Units]),
        };
        var model = point.Kind == Kind.Mlp
            ? new Sequential(first, new Dense(point.Units, "relu"), new Dense(1))
            : new Sequential(first, new Dense(1));
        model.Output = TextWriter.Null;
        model.Compile("mse", "adam");
        var rng = new System.Random(3);
        var x = point.Kind == Kind.Mlp ? Tensor.Zeros(point.Batch, point.Units) : Tensor.Zeros(point.Batch, point.Steps, point.Features);
        var y = Tensor.Zeros(point.Batch, 1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return (model, x, y);
    }
}
