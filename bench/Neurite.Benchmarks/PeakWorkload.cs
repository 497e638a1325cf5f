using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Benchmarks;

/// <summary>Measures one core's FP32 fused multiply-add peak: 12 independent chains hide FMA latency.</summary>
internal static class PeakWorkload
{
    private const int Iterations = 1 << 16;

    public static void Run(string[] args)
    {
        if (args.Contains("--trace")) { Trace(args); return; }
        var (v512, v256) = Measure();
        Console.WriteLine($"FP32 FMA peak, one core (fastest of the repetitions): Vector512 {v512:F1} GFLOP/s, Vector256 {v256:F1} GFLOP/s ({v512 / v256:F2}x)");
        if (Environment.ProcessorCount > 1 && Vector512.IsHardwareAccelerated)
        {
            var (best, median) = MeasureTwoCores();
            Console.WriteLine($"FP32 FMA peak, two cores at once (Vector512): best {best:F1} GFLOP/s ({best / v512:F2}x one core), median {median:F1} GFLOP/s ({median / v512:F2}x)");
        }
    }

    /// <summary>Both cores run the Vector512 chains at once, started together; GFLOP/s of the pair, best and median of 21 rounds.</summary>
    public static (double Best, double Median) MeasureTwoCores()
    {
        const int rounds = 21, iterations = Iterations * 8;
        var start = new Barrier(2);
        var seconds = new double[rounds];
        var other = new Thread(() =>
        {
            for (int r = 0; r < rounds; r++) { start.SignalAndWait(); Sink512 = Chains512(iterations); start.SignalAndWait(); }
        }) { IsBackground = true };
        other.Start();
        for (int r = 0; r < rounds; r++)
        {
            start.SignalAndWait();
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            Sink512 = Chains512(iterations);
            start.SignalAndWait();
            seconds[r] = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        other.Join();
        Array.Sort(seconds);
        double flops = 2.0 * iterations * 12 * 16 * 2;
        return (flops / seconds[0] / 1e9, flops / seconds[rounds / 2] / 1e9);
    }

    /// <summary>Peak GFLOP/s for Vector512 (0 if not accelerated) and Vector256, from the fastest repetition:
    /// a peak is a ceiling, and contention only ever lowers it.</summary>
    public static (double Vector512, double Vector256) Measure()
    {
        double v512 = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            double seconds = Harness.Time(() => Sink512 = Chains512(Iterations), repetitions: 21, repetitionSeconds: 0.005).Best;
            v512 = Iterations * 12.0 * 16 * 2 / seconds / 1e9;
        }
        double seconds256 = Harness.Time(() => Sink256 = Chains256(Iterations), repetitions: 21, repetitionSeconds: 0.005).Best;
        return (v512, Iterations * 12.0 * 8 * 2 / seconds256 / 1e9);
    }

    /// <summary>A short one-core peak of the widest accelerated vectors (Vector512, else Vector256; best of 9
    /// repetitions of about 1.5 ms), to take right beside another measurement so that both see the same load.</summary>
    public static double QuickPeak()
    {
        bool wide = Vector512.IsHardwareAccelerated;
        int iterations = wide ? Iterations * 8 : Iterations * 4;
        double best = double.MaxValue;
        for (int r = 0; r < 10; r++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            if (wide) Sink512 = Chains512(iterations);
            else Sink256 = Chains256(iterations);
            // The first repetition may still run unoptimised code.
            if (r > 0) best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return iterations * 12.0 * (wide ? 16 : 8) * 2 / best / 1e9;
    }

    /// <summary>
    /// GFLOP/s of the widest accelerated chains run for about <paramref name="seconds"/> of this thread's CPU time (sized from
    /// <paramref name="expectedGflops"/>), timed in thread CPU time: the peak over the same span as a measurement just taken
    /// beside it, since this host's one-core rate moves within milliseconds (see <c>peak --trace</c>).
    /// </summary>
    public static double ChainsRateCpu(double seconds, double expectedGflops)
    {
        bool wide = Vector512.IsHardwareAccelerated;
        double flopPerIteration = 12.0 * (wide ? 16 : 8) * 2;
        int iterations = (int)Math.Clamp(seconds * expectedGflops * 1e9 / flopPerIteration, 64, int.MaxValue);
        double start = Harness.ThreadCpuMs();
        if (wide) Sink512 = Chains512(iterations);
        else Sink256 = Chains256(iterations);
        double elapsed = (Harness.ThreadCpuMs() - start) / 1e3;
        return iterations * flopPerIteration / Math.Max(elapsed, 1e-9) / 1e9;
    }

    /// <summary>
    /// <c>peak --trace [seconds]</c>: the chains in back-to-back slices of 1, 16 and 150 ms of thread CPU time, each length for
    /// the given seconds (default 4): the spread of the one-core rate within a run, and how a slice's length changes the
    /// fastest and the median reading.
    /// </summary>
    private static void Trace(string[] args)
    {
        double seconds = SweepWorkload.Option(args, "--trace") is string text && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 4;
        double expected = QuickPeakCpu();
        Console.WriteLine($"widest chains, thread CPU time; a quick peak (best of 9 slices of ~1.5 ms) read {expected:F1} GFLOP/s");
        Console.WriteLine($"{"slice",8} {"slices",7} {"min",6} {"p10",6} {"median",6} {"p90",6} {"max",6}  GFLOP/s; medians of successive tenths of the run");
        foreach (double slice in new[] { 0.001, 0.016, 0.150 })
        {
            var rates = new List<double>();
            double start = Harness.ThreadCpuMs();
            while (Harness.ThreadCpuMs() - start < seconds * 1e3) rates.Add(ChainsRateCpu(slice, expected));
            int tenth = Math.Max(1, rates.Count / 10);
            var tenths = Enumerable.Range(0, rates.Count / tenth).Select(i => Median(rates.GetRange(i * tenth, tenth))).Select(r => r.ToString("F0"));
            var sorted = rates.Order().ToList();
            double At(double q) => sorted[(int)Math.Min(sorted.Count - 1, q * sorted.Count)];
            Console.WriteLine($"{slice * 1e3,5:0} ms {rates.Count,7} {sorted[0],6:F0} {At(0.1),6:F0} {At(0.5),6:F0} {At(0.9),6:F0} {sorted[^1],6:F0}  {string.Join(' ', tenths)}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary><see cref="QuickPeak"/> in thread CPU time (see <see cref="Harness.CpuTime"/>).</summary>
    public static double QuickPeakCpu()
    {
        bool wide = Vector512.IsHardwareAccelerated;
        int iterations = wide ? Iterations * 8 : Iterations * 4;
        double best = wide ? Harness.CpuTime(() => Sink512 = Chains512(iterations), 9).Best
            : Harness.CpuTime(() => Sink256 = Chains256(iterations), 9).Best;
        return iterations * 12.0 * (wide ? 16 : 8) * 2 / best / 1e9;
    }

    private static Vector512<float> Sink512;
    private static Vector256<float> Sink256;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> Chains512(int iterations)
    {
        // x·0.9999999 + 1e-7 stays finite forever, so the timing never meets denormals or infinities.
        var scale = Vector512.Create(0.9999999f);
        var add = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(0.1f), c1 = Vector512.Create(0.2f), c2 = Vector512.Create(0.3f),
            c3 = Vector512.Create(0.4f), c4 = Vector512.Create(0.5f), c5 = Vector512.Create(0.6f),
            c6 = Vector512.Create(0.7f), c7 = Vector512.Create(0.8f), c8 = Vector512.Create(0.9f),
            c9 = Vector512.Create(1.0f), c10 = Vector512.Create(1.1f), c11 = Vector512.Create(1.2f);
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, scale, add); c1 = Vector512.FusedMultiplyAdd(c1, scale, add);
            c2 = Vector512.FusedMultiplyAdd(c2, scale, add); c3 = Vector512.FusedMultiplyAdd(c3, scale, add);
            c4 = Vector512.FusedMultiplyAdd(c4, scale, add); c5 = Vector512.FusedMultiplyAdd(c5, scale, add);
            c6 = Vector512.FusedMultiplyAdd(c6, scale, add); c7 = Vector512.FusedMultiplyAdd(c7, scale, add);
            c8 = Vector512.FusedMultiplyAdd(c8, scale, add); c9 = Vector512.FusedMultiplyAdd(c9, scale, add);
            c10 = Vector512.FusedMultiplyAdd(c10, scale, add); c11 = Vector512.FusedMultiplyAdd(c11, scale, add);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> Chains256(int iterations)
    {
        var scale = Vector256.Create(0.9999999f);
        var add = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(0.1f), c1 = Vector256.Create(0.2f), c2 = Vector256.Create(0.3f),
            c3 = Vector256.Create(0.4f), c4 = Vector256.Create(0.5f), c5 = Vector256.Create(0.6f),
            c6 = Vector256.Create(0.7f), c7 = Vector256.Create(0.8f), c8 = Vector256.Create(0.9f),
            c9 = Vector256.Create(1.0f), c10 = Vector256.Create(1.1f), c11 = Vector256.Create(1.2f);
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, scale, add); c1 = Vector256.FusedMultiplyAdd(c1, scale, add);
            c2 = Vector256.FusedMultiplyAdd(c2, scale, add); c3 = Vector256.FusedMultiplyAdd(c3, scale, add);
            c4 = Vector256.FusedMultiplyAdd(c4, scale, add); c5 = Vector256.FusedMultiplyAdd(c5, scale, add);
            c6 = Vector256.FusedMultiplyAdd(c6, scale, add); c7 = Vector256.FusedMultiplyAdd(c7, scale, add);
            c8 = Vector256.FusedMultiplyAdd(c8, scale, add); c9 = Vector256.FusedMultiplyAdd(c9, scale, add);
            c10 = Vector256.FusedMultiplyAdd(c10, scale, add); c11 = Vector256.FusedMultiplyAdd(c11, scale, add);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }
}
