using Neurite.Initializers;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>init</c>: thread CPU time of Keras's orthogonal draw of a recurrent kernel (U, 4U), the part of building an LSTM(U)
/// that grows as U³: the first call in this process (what a model's build pays, compiling included) and the median of
/// three more, and the orthonormalisation's 4·m·n² FLOP (an m×n draw, each projection applied twice, in double) over the
/// median call's time, the normal draw included. Only public API: the same program runs against another build's
/// Neurite.dll copied over its own, for an alternating A/B.
/// </summary>
internal static class InitWorkload
{
    public static void Run(string[] args)
    {
        Console.WriteLine("Orthogonal().Fill of a recurrent kernel (U, 4U), one thread, thread CPU time");
        foreach (int units in new[] { 256, 512, 1024 })
        {
            var values = new float[units * 4 * units];
            int[] shape = [units, 4 * units];
            var rng = new System.Random(7);
            double start = Harness.ThreadCpuMs();
            new Orthogonal().Fill(values, shape, rng);
            double first = (Harness.ThreadCpuMs() - start) / 1e3;
            var (median, _) = Harness.CpuTime(() => new Orthogonal().Fill(values, shape, rng), calls: 3, warmCalls: 0);
            double flop = 4.0 * (4.0 * units) * units * units;
            Console.WriteLine($"  U={units,5}: first call {first,7:F3} s, then median {median,7:F3} s ({flop / median / 1e9:F1} GFLOP/s in double)");
        }
    }
}
