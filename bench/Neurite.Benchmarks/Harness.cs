using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Neurite.Benchmarks;

/// <summary>A small timing harness for a shared, noisy machine: warm up, then the median of repetitions.</summary>
internal static class Harness
{
    /// <summary>Median seconds per call of <paramref name="body"/>, after warming up for about <paramref name="warmupSeconds"/>.</summary>
    /// <remarks>Each repetition runs enough calls to last about <paramref name="repetitionSeconds"/>, so timer
    /// resolution does not matter; the median ignores repetitions hit by other processes.</remarks>
    public static double MedianSecondsPerCall(Action body, int repetitions = 15, double repetitionSeconds = 0.01, double warmupSeconds = 0.1)
        => Time(body, repetitions, repetitionSeconds, warmupSeconds).Median;

    /// <summary>Median and fastest seconds per call over the repetitions. On a busy shared machine the
    /// fastest repetition is the best estimate of the uncontended speed; report both.</summary>
    public static (double Median, double Best) Time(Action body, int repetitions = 15, double repetitionSeconds = 0.01, double warmupSeconds = 0.3)
    {
        // Warm-up also sizes the batch: it lets the JIT reach its final tier (the tiering delay is 100 ms) before timing starts.
        long calls = 1;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < warmupSeconds)
        {
            for (long i = 0; i < calls; i++) body();
            if (calls < 1 << 20) calls *= 2;
        }
        var probe = Stopwatch.StartNew();
        for (long i = 0; i < calls; i++) body();
        double perCall = probe.Elapsed.TotalSeconds / calls;
        long batch = Math.Max(1, (long)(repetitionSeconds / Math.Max(perCall, 1e-9)));

        var samples = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (long i = 0; i < batch; i++) body();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / batch;
        }
        Array.Sort(samples);
        return (samples[repetitions / 2], samples[0]);
    }

    /// <summary>Bytes allocated on this thread per call, once warm (must be 0 for hot kernels).</summary>
    /// <param name="flop">The work of one call, if known: large calls are counted over fewer calls (about 2 GFLOP in all).</param>
    public static double AllocatedBytesPerCall(Action body, int calls = 1000, double flop = 0)
    {
        if (flop > 0) calls = (int)Math.Clamp(2e9 / flop, 3, calls);
        for (int i = 0; i < Math.Min(10, calls); i++) body();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) body();
        return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / calls;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for 0.4 s on each side of a switch, twice, so that both sides' code reaches its final JIT
    /// tier before an alternating comparison times any round (a small step's rounds are milliseconds).
    /// </summary>
    public static void WarmBothSides(Action<bool> setSide, Action body)
    {
        foreach (bool side in new[] { false, true, false, true })
        {
            setSide(side);
            var warmUntil = Stopwatch.StartNew();
            while (warmUntil.Elapsed.TotalSeconds < 0.4) body();
        }
    }

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Best and median thread-CPU seconds per call over <paramref name="calls"/> single calls, after a
    /// few warm calls. CPU time leaves out the time other processes hold the core, so on a shared machine it
    /// repeats far better than the clock (cache lines they evict still count); one thread only.</summary>
    public static (double Median, double Best) CpuTime(Action body, int calls, int warmCalls = 3)
    {
        for (int i = 0; i < warmCalls; i++) body();
        var samples = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            double start = ThreadCpuMs();
            body();
            samples[i] = (ThreadCpuMs() - start) / 1e3;
        }
        Array.Sort(samples);
        return (samples[calls / 2], samples[0]);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>This thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID on Linux; elsewhere the clock stands in).</summary>
    public static double ThreadCpuMs()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3, out var t) == 0) return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
        return Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
    }
}
