using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>fuseab U B [rounds] [calls]</c>: the sweep's MLP step (Dense(U relu) ×2 → Dense(1), MSE, Adam) on one thread with the
/// Dense kernels' Adam update fused into their weight-gradient products and without (two models alike, rounds alternating
/// which goes first), thread CPU ms per step: best and median of each round, then the medians over rounds. In one process,
/// so both sides see the same load. <c>--block F</c> sets the fused product's block of C (floats).
/// </summary>
internal static class FuseAbWorkload
{
    public static void Run(string[] args)
    {
        int blockAt = Array.IndexOf(args, "--block");
        var numbers = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (blockAt < 0 || i != blockAt + 1)).ToArray();
        int units = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 1024;
        int batch = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 64;
        int rounds = numbers.Length > 2 ? int.Parse(numbers[2], CultureInfo.InvariantCulture) : 6;
        int calls = numbers.Length > 3 ? int.Parse(numbers[3], CultureInfo.InvariantCulture) : Math.Max(20, (int)(2e8 / ((double)units * units * batch)));
        if (blockAt >= 0) Gemm.FinishedBlockFloats = int.Parse(args[blockAt + 1], CultureInfo.InvariantCulture);
        Threading.MaxThreads = 1;
        var point = new SweepWorkload.Point(SweepWorkload.Kind.Mlp, units, batch, 1, units);
        var (fused, fx, fy) = SweepWorkload.Build(point);
        var (plain, px, py) = SweepWorkload.Build(point);
        plain.FuseKernelUpdates = false;
        Console.WriteLine($"fuseab MLP U={units} B={batch}, one thread, {calls} steps a round, block {Gemm.FinishedBlockFloats} floats; thread CPU ms per step, best / median");
        var bestFused = new List<double>();
        var bestPlain = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            (double Median, double Best) f, p;
            if (r % 2 == 0)
            {
                f = Harness.CpuTime(() => fused.TrainOnBatch(fx, fy), calls);
                p = Harness.CpuTime(() => plain.TrainOnBatch(px, py), calls);
            }
            else
            {
                p = Harness.CpuTime(() => plain.TrainOnBatch(px, py), calls);
                f = Harness.CpuTime(() => fused.TrainOnBatch(fx, fy), calls);
            }
            bestFused.Add(f.Best * 1e3);
            bestPlain.Add(p.Best * 1e3);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {r}: fused {f.Best * 1e3,8:0.0000} {f.Median * 1e3,8:0.0000}   unfused {p.Best * 1e3,8:0.0000} {p.Median * 1e3,8:0.0000}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  median of the rounds' best: fused {Harness.Median(bestFused):0.0000} ms, unfused {Harness.Median(bestPlain):0.0000} ms, ratio {Harness.Median(bestFused) / Harness.Median(bestPlain):0.000}; fused lower in {bestFused.Zip(bestPlain).Count(t => t.First < t.Second)} of {rounds}"));
    }
}
