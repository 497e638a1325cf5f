using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>switchab SWITCH KIND:U,B[,T,D] [rounds] [calls]</c>: a sweep point's step on one thread with one of the kernels'
/// per-thread switches off and on, alternating rounds on one model (which side goes first alternates too), thread CPU ms
/// per step, after both sides are warm: best and median of each round, then the medians of the rounds' best. In one process, so both sides see the
/// same load and the same weights' history.
/// </summary>
internal static class SwitchAbWorkload
{
    private static readonly Dictionary<string, Action<bool>> Switches = new(StringComparer.OrdinalIgnoreCase)
    {
        ["copypf"] = on => Gemm.WideCopySourcePrefetchEnabled = on,
        ["swap"] = on => Gemm.SwapOperandsEnabled = on,
        ["smallb"] = on => Gemm.SmallBInPlaceEnabled = on,
        ["blockfit"] = on => Gemm.HandedBlocksFitL2 = on,
    };

    public static void Run(string[] args)
    {
        if (args.Length < 2 || !Switches.TryGetValue(args[0], out var set))
            throw new ArgumentException($"switchab needs a switch ({string.Join(", ", Switches.Keys)}) and a point such as mlp:1024,64.");
        var point = SweepWorkload.Point.Parse(args[1]);
        int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        int calls = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 30;
        Threading.MaxThreads = 1;
        var (model, x, y) = SweepWorkload.Build(point);
        Harness.WarmBothSides(set, () => model.TrainOnBatch(x, y));
        Console.WriteLine($"switchab {args[0]} {args[1]}, one thread, {calls} steps a round; thread CPU ms per step, best / median");
        var bestOff = new List<double>();
        var bestOn = new List<double>();
        try
        {
            for (int r = 0; r < rounds; r++)
            {
                (double Median, double Best) off = default, on = default;
                foreach (bool state in r % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    set(state);
                    var t = Harness.CpuTime(() => model.TrainOnBatch(x, y), calls);
                    if (state) on = t; else off = t;
                }
                bestOff.Add(off.Best * 1e3);
                bestOn.Add(on.Best * 1e3);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {r}: off {off.Best * 1e3,8:0.0000} {off.Median * 1e3,8:0.0000}   on {on.Best * 1e3,8:0.0000} {on.Median * 1e3,8:0.0000}"));
            }
        }
        finally { set(true); }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  median of the rounds' best: off {Harness.Median(bestOff):0.0000} ms, on {Harness.Median(bestOn):0.0000} ms, ratio on/off {Harness.Median(bestOn) / Harness.Median(bestOff):0.000}; on lower in {bestOn.Zip(bestOff).Count(t => t.First < t.Second)} of {rounds}"));
    }
}
