using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>swapab U B [rounds] [calls]</c>: the sweep's MLP step (Dense(U relu) ×2 → Dense(1), MSE, Adam) on one thread with
/// short products C = A·Bᵀ swapped into Cᵀ = B·Aᵀ (<see cref="Gemm.SwapsOperands"/>) and made directly, rounds alternating
/// which goes first, thread CPU ms per step (best of each round, then the median over rounds). <c>--shapes</c>: the same
/// for single products M×K×N (A·Bᵀ, one thread, µs), over the shapes a Dense layer's input gradient takes; <c>--two</c>: on
/// two threads, on the clock (fastest of a few repetitions); <c>--v256</c>: on the 256-bit path; <c>--inplace</c>: the
/// same comparison for a small B read in place ("swapped") against its panels copied ("direct", <see cref="Gemm.ReadsSmallBInPlace"/>).
/// </summary>
internal static class SwapAbWorkload
{
    // --inplace: the knob compared is a small B read in place (on, "swapped") against its panels copied ("direct").
    private static bool s_inPlace;

    public static void Run(string[] args)
    {
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        int Number(int at, int fallback) => numbers.Length > at ? int.Parse(numbers[at], CultureInfo.InvariantCulture) : fallback;
        Threading.MaxThreads = 1;
        try
        {
            if (args.Contains("--two")) Threading.MaxThreads = 2;
            if (args.Contains("--v256")) KernelSelector.Forced = KernelPath.Vector256;
            s_inPlace = args.Contains("--inplace");
            if (args.Contains("--shapes")) Shapes(Number(0, 6));
            else Step(Number(0, 1024), Number(1, 64), Number(2, 8), Number(3, 40));
        }
        finally
        {
            Gemm.SwapOperandsEnabled = true;
            Gemm.SmallBInPlaceEnabled = true;
            KernelSelector.Forced = null;
            Threading.MaxThreads = Environment.ProcessorCount;
        }
    }

    private static void Step(int units, int batch, int rounds, int calls)
    {
        var point = new SweepWorkload.Point(SweepWorkload.Kind.Mlp, units, batch, 1, units);
        var (model, x, y) = SweepWorkload.Build(point);
        Console.WriteLine($"swapab MLP U={units} B={batch}, one thread, {calls} steps a round; thread CPU ms per step, best of the round");
        var (direct, swapped) = Alternate(rounds, () => model.TrainOnBatch(x, y), calls);
        Report("step", direct, swapped, "ms", 1e3);
    }

    private static void Shapes(int rounds)
    {
        (int M, int K, int N)[] shapes =
        [
            (64, 1024, 1024), (32, 1024, 1024), (16, 1024, 1024), (128, 1024, 1024), (200, 1024, 1024),
            (64, 512, 512), (128, 512, 512), (64, 2048, 2048), (64, 512, 2048), (64, 2048, 512), (16, 512, 512),
            (96, 1024, 1024), (224, 1024, 1024), (64, 256, 256), (32, 256, 256), (128, 256, 256), (64, 1024, 256), (64, 256, 1024),
        ];
        // A·B with a small B whose rows share L1 sets (the first shape twice: its first rounds run while the JIT tiers up).
        if (s_inPlace) shapes = [(64, 128, 128), (64, 128, 128), (32, 128, 128), (128, 128, 128), (96, 128, 128), (48, 128, 128), (200, 128, 128), (16, 128, 128), (24, 128, 128), (64, 64, 256), (64, 256, 64), (64, 32, 512), (64, 256, 256), (32, 256, 256), (16, 256, 256), (128, 256, 256)];
        var rng = new System.Random(1);
        foreach (var (m, k, n) in shapes)
        {
            var a = new float[m * k];
            var b = new float[n * k];
            var c = new float[m * n];
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() - 0.5);
            for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() - 0.5);
            int calls = (int)Math.Clamp(4e8 / (2.0 * m * k * n), 5, 200);
            var (direct, swapped) = Alternate(rounds, () => Gemm.Multiply(a, b, c, m, k, n, transB: !s_inPlace), calls);
            Report(s_inPlace ? $"{m}x{k}x{n} A.B" : $"{m}x{k}x{n} A.B^T", direct, swapped, "us", 1e6);
        }
    }

    private static (List<double> Direct, List<double> Swapped) Alternate(int rounds, Action body, int calls)
    {
        var direct = new List<double>();
        var swapped = new List<double>();
        for (int r = 0; r < rounds; r++)
            for (int side = 0; side < 2; side++)
            {
                bool swap = (r + side) % 2 == 1;
                if (s_inPlace) Gemm.SmallBInPlaceEnabled = swap;
                else Gemm.SwapOperandsEnabled = swap;
                (swap ? swapped : direct).Add(Threading.MaxThreads == 1
                    ? Harness.CpuTime(body, calls).Best
                    : Harness.Time(body, repetitions: 5, repetitionSeconds: 0.01, warmupSeconds: 0.02).Best);
            }
        return (direct, swapped);
    }

    private static void Report(string what, List<double> direct, List<double> swapped, string unit, double scale)
    {
        string List(List<double> v) => string.Join(", ", v.Select(t => (t * scale).ToString("0.000", CultureInfo.InvariantCulture)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-24} direct {Harness.Median(direct) * scale,9:0.000} {unit}  swapped {Harness.Median(swapped) * scale,9:0.000} {unit}  ratio {Harness.Median(swapped) / Harness.Median(direct):0.000}, swapped lower in {swapped.Zip(direct).Count(t => t.First < t.Second)} of {direct.Count}"));
        Console.WriteLine($"      direct {List(direct)}");
        Console.WriteLine($"      swapped {List(swapped)}");
    }
}
