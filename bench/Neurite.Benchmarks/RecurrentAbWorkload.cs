using System.Globalization;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>recab KIND:U,B,T,D|w3: [rounds] [calls] [--small-fusion]</c>: a sweep point's (or W3's) training step on one thread with the weight-gradient pass's
/// tiles fetching the next panel's packed block and a later C tile inside their k loops (<see cref="Gemm.TransposedPartsPrefetchPanelsEnabled"/>,
/// <see cref="Gemm.TransposedPartsTileStreamEnabled"/>) and without (the C tile asked for at once before each call), rounds
/// alternating which goes first, thread CPU ms per step (best of each round, then the median over rounds); with <c>--onekblock</c>
/// instead the products' next-panel fetches of a packed B of one K block (<see cref="Gemm.OneKBlockPanelPrefetchForced"/>, old)
/// and none (<see cref="Gemm.PrefetchesNextPanelBlock"/>, new); with <c>--nextstep</c> the steps' fetches of the next step's arrays
/// into a quarter of the L2 (<see cref="RecurrentSequence.QuarterL2NextStepForced"/>, old) and into all of it (new); both flags: both at once. <c>--small-fusion</c>: <see cref="RecurrentSequence.SmallPassesFuse"/> (small passes fusing or not) instead. <c>--parts</c>: an LSTM
/// point's step products (B rows each: the rows of one half) and packs one by one, the weight-gradient pass with each combination.
/// </summary>
internal static class RecurrentAbWorkload
{
    /// <summary>An LSTM step's large products and packs one by one (B: the rows of one product), thread CPU, GFLOP/s.</summary>
    private static void Parts(int rounds, SweepWorkload.Point point)
    {
        int u = point.Units, g = 4 * u, b = point.Batch, t = point.Steps, d = point.Features;
        var rng = new System.Random(1);
        float[] Random(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() - 0.5); return v; }
        var r = Random(u * g);
        var h = Random(b * u);
        var gates = Random(b * g);
        var dh = new float[b * u];
        var dz = Random(b * t * g);
        var hs = Random(b * t * u);
        var xs = Random(b * t * d);
        var dR = new float[u * g];
        var dW = new float[d * g];
        var dBias = new float[g];
        var packed = Gemm.PackB(r, u, g);
        var kernelPacked = Gemm.PackB(Random(d * g), d, g);
        var bias = Random(g);
        var transposed = new PackedMatrix(g, u);
        TransposedPacking.Repack(transposed, r);
        double peak = PeakWorkload.QuickPeakCpu();
        Console.WriteLine($"peak {peak:0} GFLOP/s");
        void Time(string what, double flop, Action body, int calls)
        {
            var best = new List<double>();
            var medians = new List<double>();
            // A small product's calls take microseconds: without this its rounds timed the kernels' first JIT tiers (5× slower).
            var warmUntil = System.Diagnostics.Stopwatch.StartNew();
            while (warmUntil.Elapsed.TotalSeconds < 0.3) body();
            for (int i = 0; i < rounds; i++)
            {
                var (median, fastest) = Harness.CpuTime(body, calls, warmCalls: 1);
                best.Add(fastest);
                medians.Add(median);
            }
            double bestAll = best.Min(), medianAll = medians.Order().ElementAt(medians.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {what,-28} median {medianAll * 1e3,8:0.000} ms  best {bestAll * 1e3,8:0.000} ms  {flop / bestAll / 1e9,6:0.0} GFLOP/s at best ({flop / bestAll / 1e9 / peak * 100:0}% of peak)"));
        }
        Time($"forward h.R ({b}x{u}x{g})", 2.0 * b * u * g, () => Gemm.Multiply(h, packed, gates, b, accumulate: true), 20);
        Time("forward b+x.W+h.R", 2.0 * b * (u + d) * g, () => Gemm.MultiplyWithLead(xs.AsSpan(0, b * d), kernelPacked, h, packed, bias, gates, b), 20);
        Time($"backward dz.RT ({b}x{g}x{u})", 2.0 * b * u * g, () => Gemm.Multiply(gates, transposed, dh, b), 20);
        unsafe
        {
            fixed (float* pw = dW, px = xs)
            {
                var x = new TransposedProductPart { A = px, Rows = d, C = pw };
                foreach (int variant in new[] { 0, 1, 2, 3, 0, 1, 2, 3 })
                {
                    Gemm.TransposedPartsPrefetchPanelsEnabled = (variant & 1) != 0;
                    Gemm.TransposedPartsTileStreamEnabled = (variant & 2) != 0;
                    Time($"dR,dW,db panels {(variant & 1) != 0,-5} stream {(variant & 2) != 0,-5}", 2.0 * (u + d + 1) * b * t * g, () =>
                    {
                        fixed (float* ph = hs, pr = dR, pb = dBias)
                        {
                            Span<TransposedProductPart> parts = [new() { A = ph, Rows = u, C = pr }, x, new() { A = null, Rows = 1, C = pb }];
                            Gemm.AddTransposedProducts(dz, b * t, g, parts);
                        }
                    }, 4);
                }
            }
        }
        Time("pack R", 0, () => Gemm.Repack(packed, r), 10);
        Time("pack RT", 0, () => TransposedPacking.Repack(transposed, r), 10);
        Time("clear dR", 0, () => dR.AsSpan().Clear(), 10);
    }

    private static void SetSwitches(string[] args, bool enabled)
    {
        bool smallFusion = args.Contains("--small-fusion"), oneKBlock = args.Contains("--onekblock"), nextStep = args.Contains("--nextstep");
        if (smallFusion) RecurrentSequence.SmallPassesFuse = enabled;
        // --onekblock: old fetches the next panel of a packed B of one K block too, new follows the rule.
        // --nextstep: old fetches the next step's arrays only into a quarter of the L2, new follows the rule.
        if (nextStep) RecurrentSequence.QuarterL2NextStepForced = !enabled;
        if (oneKBlock) Gemm.OneKBlockPanelPrefetchForced = !enabled;
        if (!smallFusion && !nextStep && !oneKBlock)
        {
            Gemm.TransposedPartsPrefetchPanelsEnabled = enabled;
            Gemm.TransposedPartsTileStreamEnabled = enabled;
        }
    }

    public static void Run(string[] args)
    {
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !a.Contains(':')).ToArray();
        int Number(int at, int fallback) => numbers.Length > at ? int.Parse(numbers[at], CultureInfo.InvariantCulture) : fallback;
        var pointText = args.FirstOrDefault(a => a.Contains(':')) ?? "lstm:1024,64,10,32";
        int rounds = Number(0, 10), calls = Number(1, 4);
        Threading.MaxThreads = 1;
        try
        {
            if (args.Contains("--parts"))
            {
                Parts(rounds, SweepWorkload.Point.Parse(pointText));
                return;
            }
            object point;
            Sequential model; Tensor x, y;
            if (pointText == "w3:")
            {
                point = "W3 (one batch of 50)";
                model = W3Workload.BuildModel();
                var (allX, allY) = W3Workload.BuildData();
                (x, y) = (allX.Slice(0, 50), allY.Slice(0, 50));
            }
            else
            {
                var p = SweepWorkload.Point.Parse(pointText);
                point = p;
                (model, x, y) = SweepWorkload.Build(p);
            }
            for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
            Harness.WarmBothSides(side => SetSwitches(args, side), () => model.TrainOnBatch(x, y));
            Console.WriteLine($"recab {point}, one thread, {calls} steps a round; thread CPU ms per step, best of the round");
            var off = new List<double>();
            var on = new List<double>();
            for (int r = 0; r < rounds; r++)
                for (int side = 0; side < 2; side++)
                {
                    bool enabled = (r + side) % 2 == 1;
                    SetSwitches(args, enabled);
                    (enabled ? on : off).Add(Harness.CpuTime(() => model.TrainOnBatch(x, y), calls, warmCalls: 1).Best * 1e3);
                }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  old {Harness.Median(off):0.0000} ms (best {off.Min():0.0000})  new {Harness.Median(on):0.0000} ms (best {on.Min():0.0000})  ratio {Harness.Median(on) / Harness.Median(off):0.000}, new lower in {on.Zip(off).Count(t => t.First < t.Second)} of {off.Count}"));
            Console.WriteLine("      old " + string.Join(", ", off.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture))));
            Console.WriteLine("      new " + string.Join(", ", on.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture))));
        }
        finally
        {
            Gemm.TransposedPartsPrefetchPanelsEnabled = true;
            Gemm.TransposedPartsTileStreamEnabled = true;
            RecurrentSequence.SmallPassesFuse = true;
            Gemm.OneKBlockPanelPrefetchForced = false;
            RecurrentSequence.QuarterL2NextStepForced = false;
            Threading.MaxThreads = Environment.ProcessorCount;
        }
    }
}
