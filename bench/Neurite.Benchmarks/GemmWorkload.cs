using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Benchmarks;

/// <summary>SGEMM rates on the shapes Neurite's workloads use, against the peak measured in the same run.</summary>
/// <remarks>Options: <c>--path Scalar|Vector256|Vector512</c> forces a kernel path; <c>--quick</c> runs fewer repetitions;
/// <c>--small</c> runs only the tutorial MLP shapes, <c>--large</c> only the LSTM and 500x100x400 shapes; <c>--rows</c> sweeps
/// the row count of the LSTM(100) recurrent product (packed B, one thread), to see what a row split costs per FLOP;
/// <c>--sweep</c> runs the large products of the size sweep, each against a peak measured right beside it; <c>--repack</c> times
/// refreshing packed recurrent kernels.</remarks>
internal static class GemmWorkload
{
    private static readonly (string Name, int M, int K, int N, bool TransA, bool TransB, bool Packed)[] Shapes =
    [
        ("500x100x400 NN", 500, 100, 400, false, false, false),
        ("500x100x400 TN", 500, 100, 400, true, false, false),
        ("500x100x400 NT", 500, 100, 400, false, true, false),
        ("500x100x400 NT packed", 500, 100, 400, false, true, true),
        ("LSTM1 x·W 50x102x400 NN", 50, 102, 400, false, false, false),
        ("LSTM1 h·U 50x100x400 packed", 50, 100, 400, false, false, true),
        ("LSTM1 h·U 50x100x400 NN", 50, 100, 400, false, false, false),
        ("LSTM1 h·U half rows 25x100x400 packed", 25, 100, 400, false, false, true),
        ("LSTM1 dW 102x50x400 TN", 102, 50, 400, true, false, false),
        ("LSTM1 dX 50x400x102 NT", 50, 400, 102, false, true, false),
        ("LSTM1 dX 50x400x102 NT packed", 50, 400, 102, false, true, true),
        ("LSTM2 x·W 50x150x200 NN", 50, 150, 200, false, false, false),
        ("LSTM2 h·U 50x50x200 NN", 50, 50, 200, false, false, false),
        ("LSTM2 h·U 50x50x200 packed", 50, 50, 200, false, false, true),
        ("LSTM2 h·U half rows 25x50x200 packed", 25, 50, 200, false, false, true),
        ("LSTM2 dW 150x50x200 TN", 150, 50, 200, true, false, false),
        ("LSTM2 dX 50x200x150 NT", 50, 200, 150, false, true, false),
        ("LSTM1 dR all steps 100x500x400 TN", 100, 500, 400, true, false, false),
        ("LSTM2 dR all steps 50x500x200 TN", 50, 500, 200, true, false, false),
        ("LSTM2 dW all steps 100x500x200 TN", 100, 500, 200, true, false, false),
    ];

    // Every product of one W3 training half-step (25 of the batch's 50 rows, 10 steps), with how many
    // times a half-step runs it: what `--halves` sums to see which shapes lose the most time.
    private static readonly (string Name, int M, int K, int N, bool TransA, bool TransB, bool Packed, int Calls)[] HalfStepShapes =
    [
        ("LSTM1 h·R per step 25x100x400 packed", 25, 100, 400, false, false, true, 10),
        ("LSTM1 dh=dz·Rᵀ per step 25x400x100 packed", 25, 400, 100, false, true, true, 9),
        ("LSTM1 dR 100x250x400 TN", 100, 250, 400, true, false, false, 1),
        ("LSTM2 x·W 250x100x200 NN", 250, 100, 200, false, false, false, 1),
        ("LSTM2 h·R per step 25x50x200 packed", 25, 50, 200, false, false, true, 10),
        ("LSTM2 dh=dz·Rᵀ per step 25x200x50 packed", 25, 200, 50, false, true, true, 9),
        ("LSTM2 dR 50x250x200 TN", 50, 250, 200, true, false, false, 1),
        ("LSTM2 dW 100x250x200 TN", 100, 250, 200, true, false, false, 1),
        ("LSTM2 dx=dz·Wᵀ 250x200x100 packed", 250, 200, 100, false, true, true, 1),
    ];

    // The large products of the size sweep (`sweep`): LSTM(512) at B = 256 (a half of 128 rows, T = 10,
    // D = 32), the per-step products of LSTM(256) and LSTM(1024), and the MLP(1024) at B = 512. LSTM(1024) at B = 64
    // also runs both halves' 64 rows as one product: what halves advancing in lock-step would run (R read once per step).
    private static readonly (string Name, int M, int K, int N, bool TransA, bool TransB, bool Packed)[] SweepShapes =
    [
        ("U512 h·R step 256x512x2048 packed", 256, 512, 2048, false, false, true),
        ("U512 h·R half 128x512x2048 packed", 128, 512, 2048, false, false, true),
        ("U512 dh=dz·Rᵀ 128x2048x512 packed", 128, 2048, 512, false, true, true),
        ("U512 x·W 1280x32x2048 NN", 1280, 32, 2048, false, false, false),
        ("U512 dR 512x1280x2048 TN", 512, 1280, 2048, true, false, false),
        ("U512 dx=dz·Wᵀ 1280x2048x32 packed", 1280, 2048, 32, false, true, true),
        ("U256 h·R half 128x256x1024 packed", 128, 256, 1024, false, false, true),
        ("U1024 h·R half 32x1024x4096 packed", 32, 1024, 4096, false, false, true),
        ("U1024 h·R both halves 64x1024x4096 packed", 64, 1024, 4096, false, false, true),
        ("U1024 dh both halves 64x4096x1024 packed", 64, 4096, 1024, false, true, true),
        ("U1024 dh=dz·Rᵀ half 32x4096x1024 packed", 32, 4096, 1024, false, true, true),
        ("MLP1024 fwd 512x1024x1024 NN", 512, 1024, 1024, false, false, false),
        ("MLP1024 dW 1024x512x1024 TN", 1024, 512, 1024, true, false, false),
        ("MLP1024 dX 512x1024x1024 NT", 512, 1024, 1024, false, true, false),
        ("MLP1024 B64 fwd 64x1024x1024 NN", 64, 1024, 1024, false, false, false),
        ("MLP1024 B64 dW 1024x64x1024 TN", 1024, 64, 1024, true, false, false),
        ("MLP1024 B64 dX 64x1024x1024 NT", 64, 1024, 1024, false, true, false),
        ("MLP128 B64 fwd 64x128x128 NN", 64, 128, 128, false, false, false),
        ("MLP128 B64 dW 128x64x128 TN", 128, 64, 128, true, false, false),
        ("MLP128 B64 dX 64x128x128 NT", 64, 128, 128, false, true, false),
    ];

    // The tutorial's MLPs (W1, W2): per-call overhead, not FMA rate, decides these.
    private static readonly (string Name, int M, int K, int N, bool TransA, bool TransB, bool Packed)[] SmallShapes =
    [
        ("W2 Dense1 fwd 50x89x8 NN", 50, 89, 8, false, false, false),
        ("W2 Dense1 dW 89x50x8 TN", 89, 50, 8, true, false, false),
        ("W2 Dense1 dX 50x8x89 NT", 50, 8, 89, false, true, false),
        ("W2 Dense2 fwd 50x8x5 NN", 50, 8, 5, false, false, false),
        ("W2 Dense2 dW 8x50x5 TN", 8, 50, 5, true, false, false),
        ("W2 Dense2 dX 50x5x8 NT", 50, 5, 8, false, true, false),
        ("W2 Dense3 fwd 50x5x2 NN", 50, 5, 2, false, false, false),
        ("W2 Dense3 dW 5x50x2 TN", 5, 50, 2, true, false, false),
        ("W2 Dense3 dX 50x2x5 NT", 50, 2, 5, false, true, false),
        ("W1 Dense fwd 5x4x3 NN", 5, 4, 3, false, false, false),
        ("W1 Dense dW 4x5x3 TN", 4, 5, 3, true, false, false),
        ("W1 Dense dX 5x3x4 NT", 5, 3, 4, false, true, false),
    ];

    /// <summary>
    /// <c>--repack</c>: thread CPU time of refreshing a packed recurrent kernel R (U, G·U) after a weight update, once per
    /// training step (<see cref="Gemm.Repack"/>), and of Rᵀ (<see cref="TransposedPacking.Repack"/>), in GB/s of R read.
    /// </summary>
    private static void RunRepack(bool quick)
    {
        Threading.MaxThreads = 1;
        Console.WriteLine("Repack of recurrent kernels R (U, G·U), one thread, thread CPU time per call");
        foreach (var (k, n) in new[] { (128, 512), (256, 1024), (512, 2048), (1024, 3072), (1024, 4096) })
        {
            var b = Values(k * n, 5);
            var packed = new PackedMatrix(k, n);
            var transposed = new PackedMatrix(n, k);
            int calls = quick ? 15 : 40;
            double Rate(double seconds) => 4.0 * k * n / seconds / 1e9;
            var (median, best) = Harness.CpuTime(() => Gemm.Repack(packed, b), calls);
            var (tMedian, tBest) = Harness.CpuTime(() => TransposedPacking.Repack(transposed, b), calls);
            Console.WriteLine($"  R {k}x{n} ({4.0 * k * n / (1 << 20):0.#} MiB): packed median {median * 1e6,8:F0} µs ({Rate(median):0.0} GB/s), best {best * 1e6,8:F0} µs; " +
                $"transposed median {tMedian * 1e6,8:F0} µs ({Rate(tMedian):0.0} GB/s), best {tBest * 1e6,8:F0} µs");
        }
    }

    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int pathIndex = Array.IndexOf(args, "--path");
        if (pathIndex >= 0) KernelSelector.Force(Enum.Parse<KernelPath>(args[pathIndex + 1], ignoreCase: true));

        var (peak512, peak256) = args.Contains("--calls") || args.Contains("--cpu") ? (0, 0) : PeakWorkload.Measure();
        double peak = KernelSelector.Current == KernelPath.Vector512 ? peak512 : peak256;
        Console.WriteLine($"kernel path {KernelSelector.Current}; measured one-core FMA peak: Vector512 {peak512:F1}, Vector256 {peak256:F1} GFLOP/s");
        Console.WriteLine($"{"shape",-32} {"thr",3} {"median µs",9} {"GFLOP/s",8} {"% peak",7} | {"best µs",8} {"GFLOP/s",8} {"% peak",7} {"B/call",7}");

        int savedThreads = Threading.MaxThreads;
        if (args.Contains("--repack"))
        {
            RunRepack(quick);
            return;
        }
        if (args.Contains("--rows"))
        {
            // How the row count alone moves the rate of the LSTM(100) recurrent product (packed B, one thread).
            var bRows = Values(100 * 400, 2);
            var packedRows = Gemm.PackB(bRows, 100, 400);
            Threading.MaxThreads = 1;
            foreach (int rows in new[] { 8, 9, 10, 12, 13, 16, 20, 24, 25, 26, 30, 36, 40, 50 })
            {
                var aRows = Values(rows * 100, 1);
                var cRows = new float[rows * 400];
                var (median, best) = Harness.Time(() => Gemm.Multiply(aRows, packedRows, cRows, rows, accumulate: true),
                    repetitions: 7, repetitionSeconds: 0.003, warmupSeconds: 0.1);
                double flop = 2.0 * rows * 100 * 400;
                Console.WriteLine($"{rows,3}x100x400 packed: median {median * 1e6,7:F2} µs ({100 * flop / median / 1e9 / peak,5:F1}% peak), best {best * 1e6,7:F2} µs ({100 * flop / best / 1e9 / peak,5:F1}%)");
            }
            Threading.MaxThreads = savedThreads;
            return;
        }
        if (args.Contains("--halves"))
        {
            Threading.MaxThreads = 1;
            double totalMedian = 0, totalBest = 0, totalFlop = 0;
            foreach (var (name, m, k, n, transA, transB, packedB, calls) in HalfStepShapes)
            {
                var a = Values(m * k, 1);
                var b = Values(k * n, 2);
                var c = new float[m * n];
                var packed = Gemm.PackB(b, k, n, transB);
                Action call = packedB
                    ? () => Gemm.Multiply(a, packed, c, m, transA, accumulate: true)
                    : () => Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate: true);
                var (median, best) = Harness.Time(call, repetitions: quick ? 7 : 21, repetitionSeconds: 0.003, warmupSeconds: 0.15);
                double flop = 2.0 * m * k * n;
                totalMedian += median * calls; totalBest += best * calls; totalFlop += flop * calls;
                Console.WriteLine($"{name,-44} ×{calls,2} {median * 1e6,8:F2} µs {100 * flop / median / 1e9 / peak,6:F1}% | best {best * 1e6,8:F2} µs {100 * flop / best / 1e9 / peak,6:F1}%  ({calls * best * 1e6,7:F1} µs per half-step)");
            }
            Console.WriteLine($"one half-step's products: {totalFlop / 1e6:F1} MFLOP, median {totalMedian * 1e6:F0} µs ({100 * totalFlop / totalMedian / 1e9 / peak:F1}% peak), best {totalBest * 1e6:F0} µs ({100 * totalFlop / totalBest / 1e9 / peak:F1}%); floor {totalFlop / peak / 1e3:F0} µs");
            Threading.MaxThreads = savedThreads;
            return;
        }
        bool sweep = args.Contains("--sweep");
        var shapes = sweep ? SweepShapes : args.Contains("--small") ? SmallShapes : args.Contains("--large") ? Shapes : [.. SmallShapes, .. Shapes];
        // --only TEXT keeps the shapes whose name contains it; --calls N runs each N times on one thread
        // without timing, for a cache simulator (valgrind --tool=cachegrind) to count misses.
        string? only = SweepWorkload.Option(args, "--only");
        if (only != null) shapes = [.. shapes.Where(s => s.Name.Contains(only, StringComparison.Ordinal))];
        string? untimedCalls = SweepWorkload.Option(args, "--calls");
        // --cpu: one thread, each call timed in thread CPU time beside a peak taken the same way (repeatable on a busy machine).
        if (args.Contains("--cpu"))
        {
            Threading.MaxThreads = 1;
            Console.WriteLine("one thread, thread CPU time per call, against the peak in CPU time taken right before each shape");
            foreach (var (name, m, k, n, transA, transB, packedB) in shapes)
            {
                var (call, _) = Product(m, k, n, transA, transB, packedB);
                double cpuPeak = PeakWorkload.QuickPeakCpu();
                double flop = 2.0 * m * k * n;
                var (median, best) = Harness.CpuTime(call, calls: quick ? 5 : 11);
                Console.WriteLine($"{name,-36} median {median * 1e6,9:F0} µs {100 * flop / median / 1e9 / cpuPeak,5:F1}% | best {best * 1e6,9:F0} µs {100 * flop / best / 1e9 / cpuPeak,5:F1}% of {cpuPeak:F1} GFLOP/s");
            }
            Threading.MaxThreads = savedThreads;
            return;
        }
        if (untimedCalls != null)
        {
            Threading.MaxThreads = 1;
            foreach (var (name, m, k, n, transA, transB, packedB) in shapes)
            {
                var (call, c) = Product(m, k, n, transA, transB, packedB);
                for (int i = 0; i < int.Parse(untimedCalls, System.Globalization.CultureInfo.InvariantCulture); i++) call();
                Console.WriteLine($"{name}: c[last] = {c[^1]}");
            }
            Threading.MaxThreads = savedThreads;
            return;
        }
        foreach (var (name, m, k, n, transA, transB, packedB) in shapes)
        {
            var (call, _) = Product(m, k, n, transA, transB, packedB);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                // On a shared machine the peak taken right beside the product sees the same load.
                if (sweep) peak = PeakWorkload.QuickPeak();
                // Sub-microsecond calls get many short repetitions: on a shared machine some of them fit
                // between other processes' time slices, which the best-of then finds.
                bool small = 2.0 * m * k * n < 1e6;
                var (median, best) = small
                    ? Harness.Time(call, repetitions: quick ? 51 : 201, repetitionSeconds: 0.0005, warmupSeconds: quick ? 0.15 : 0.3)
                    : Harness.Time(call, repetitions: quick ? 7 : 21, repetitionSeconds: quick ? 0.003 : 0.01, warmupSeconds: quick ? 0.15 : 0.3);
                double allocated = Harness.AllocatedBytesPerCall(call, flop: 2.0 * m * k * n);
                double flop = 2.0 * m * k * n;
                Console.WriteLine($"{name,-32} {threads,3} {median * 1e6,9:F2} {flop / median / 1e9,8:F1} {100 * flop / median / 1e9 / (peak * threads),6:F1}% | " +
                                  $"{best * 1e6,8:F2} {flop / best / 1e9,8:F1} {100 * flop / best / 1e9 / (peak * threads),6:F1}% {allocated,7:F0}");
            }
        }
        Threading.MaxThreads = savedThreads;
        Console.WriteLine("% peak is against the one-core peak times the thread count.");
    }

    /// <summary>One call of the product on fixed operands (B packed beforehand when <paramref name="packedB"/>), and its output.</summary>
    private static (Action Call, float[] C) Product(int m, int k, int n, bool transA, bool transB, bool packedB)
    {
        var a = Values(m * k, 1);
        var b = Values(k * n, 2);
        var c = new float[m * n];
        var packed = Gemm.PackB(b, k, n, transB);
        Action call = packedB
            ? () => Gemm.Multiply(a, packed, c, m, transA)
            : () => Gemm.Multiply(a, b, c, m, k, n, transA, transB);
        return (call, c);
    }

    private static float[] Values(int count, int seed)
    {
        var random = new System.Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
