using System.Diagnostics;
using System.Globalization;
using Neurite.Backends;
using Neurite.Backends.Cpu;
using Neurite.Cuda;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Benchmarks;

/// <summary>
/// Issue 15's GPU evidence, beside the CPU backend on 2 threads in the same run, ending in one summary table:
/// cuBLAS's math mode; one training step of a large LSTM sequence (forward and backpropagation through time,
/// U=1024, B=512, T=50, D=32) on the device LSTM core and on the CPU core, with the largest differences and
/// the speed-up; then W3 from the same weights on each backend: a forward pass, one training step and one
/// epoch (largest differences of outputs, weights and loss), and the epoch's time.
/// </summary>
/// <remarks>
/// Options: <c>--quick</c> (fewer repetitions), <c>--cpu-threads N</c> (default 2, the project's machine),
/// <c>--dry-run</c> (ILGPU's CPU accelerator standing in for the GPU, at toy sizes: checks this workload's
/// code on a machine without one before the GPU's short time is spent on it; its times mean nothing).
/// </remarks>
internal static class CudaWorkload
{
    private const double Agreement = 1e-4, LstmSpeedUpTarget = 20;
    private static int Units = 1024, Batch = 512, Steps = 50, Features = 32, W3Rows = 2000;
    private static readonly List<(string What, string Result, string Target, bool? Met)> s_summary = [];
    private static int? s_timedRepetitions;
    private static bool s_dryRun;

    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        s_timedRepetitions = null;
        int at = Array.IndexOf(args, "--cpu-threads");
        int cpuThreads = at >= 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 2;
        CudaBackend device;
        bool dryRun = s_dryRun = args.Contains("--dry-run");
        if (dryRun)
        {
            // ILGPU's CPU accelerator takes milliseconds a kernel: two W3 batches, one timed repetition.
            (Units, Batch, Steps, Features, W3Rows) = (16, 8, 5, 4, 100);
            quick = true;
            s_timedRepetitions = 1;
            device = new CudaBackend(DeviceContext.CreateCpu());
            Console.WriteLine("dry run: ILGPU's CPU accelerator stands in for the GPU, at toy sizes; the times mean nothing");
            s_summary.Add(("cuBLAS math mode", "no cuBLAS on the CPU accelerator (dry run)", "CUBLAS_DEFAULT_MATH (0), not TF32", null));
        }
        else
        {
            if (DeviceContext.FindMissingPiece() is { } missing)
            {
                Console.WriteLine("cuda: " + missing);
                Environment.Exit(2);
            }
            device = new CudaBackend(DeviceContext.CreateCuda());
            var blas = device.Device.Blas!;
            Console.WriteLine($"CUDA device: {device.Device.Accelerator.Name}; cuBLAS {blas.Version}; CPU backend on {cpuThreads} thread(s) of {Environment.ProcessorCount}");
            int mode = blas.MathMode;
            s_summary.Add(("cuBLAS math mode", $"{mode}{(mode == Neurite.Cuda.Native.CuBlas.DefaultMath ? " (CUBLAS_DEFAULT_MATH)" : "")}, cuBLAS {blas.Version}",
                "CUBLAS_DEFAULT_MATH (0), not TF32", mode == Neurite.Cuda.Native.CuBlas.DefaultMath));
        }
        // The same name Backend.Use takes, for the W3 comparisons (a registered factory: never a second device context).
        Backend.Register("cuda", () => device);
        LargeLstm(device, cpuThreads, quick);
        W3(cpuThreads, quick);
        PrintSummary(dryRun);
        device.Dispose();
    }

    private static void LargeLstm(CudaBackend device, int cpuThreads, bool quick)
    {
        int g = 4 * Units;
        var rng = new System.Random(3);
        float[] Fill(int n, float scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale; return a; }
        var x = Fill(Batch * Steps * Features, 1f);
        var kernel = Fill(Features * g, 0.05f);
        var recurrent = Fill(Units * g, 0.02f);
        var bias = Fill(g, 0.1f);
        var dOutput = Fill(Batch * Units, 1f);
        double flop = 2.0 * Batch * Steps * (Features + Units) * g * 3; // forward, dz·Rᵀ and dx, dW and dR: three products of the same size

        Threading.MaxThreads = cpuThreads;
        var cores = new (string Name, IRecurrentCore Core)[]
        {
            ("cpu", new CpuBackend().CreateLstm(Features, Units, GateActivation.Tanh, GateActivation.Sigmoid, false, false)),
            ("cuda", device.CreateLstm(Features, Units, GateActivation.Tanh, GateActivation.Sigmoid, false, false)),
        };
        var results = new List<float[][]>();
        var medians = new List<double>();
        foreach (var (name, core) in cores)
        {
            var output = new float[Batch * Units];
            var dx = new float[x.Length];
            var dKernel = new float[kernel.Length];
            var dRecurrent = new float[recurrent.Length];
            var dBias = new float[g];
            void Step()
            {
                core.RunForward(Batch, Steps, x, default, default, kernel, recurrent, bias, output, default, default);
                Array.Clear(dKernel); Array.Clear(dRecurrent); Array.Clear(dBias);
                core.RunBackward(dOutput, default, default, kernel, recurrent, dx, dKernel, dRecurrent, dBias, default, default);
            }
            Step();
            results.Add([(float[])output.Clone(), (float[])dx.Clone(), (float[])dKernel.Clone(), (float[])dRecurrent.Clone(), (float[])dBias.Clone()]);
            int repetitions = s_timedRepetitions ?? (name == "cpu" ? (quick ? 1 : 3) : (quick ? 5 : 20));
            var times = new List<double>();
            for (int r = 0; r < repetitions; r++)
            {
                var watch = Stopwatch.StartNew();
                Step();
                times.Add(watch.Elapsed.TotalSeconds);
            }
            times.Sort();
            double median = times[times.Count / 2];
            medians.Add(median);
            Console.WriteLine($"  large LSTM step (U={Units}, B={Batch}, T={Steps}, D={Features}) on {name}: {median * 1000:0.0} ms median of {repetitions}, " +
                $"best {times[0] * 1000:0.0} ms, {flop / median / 1e9:0} GFLOP/s");
        }
        string[] names = ["output", "dx", "dKernel", "dRecurrentKernel", "dBias"];
        var differences = names.Select((n, i) => LargestRelativeDifference(results[0][i], results[1][i])).ToArray();
        for (int i = 0; i < names.Length; i++)
            Console.WriteLine($"    {names[i]}: largest difference cuda vs cpu {differences[i]:E2} (relative to the larger of the value and the mean magnitude)");
        Threading.MaxThreads = 1;
        string size = $"U={Units}, B={Batch}, T={Steps}, D={Features}";
        Agree($"large LSTM forward ({size}): output, cuda vs cpu", differences[0]);
        Agree($"large LSTM step ({size}): dx, dW, dR, db, cuda vs cpu", differences.Skip(1).Max());
        double speedUp = medians[0] / medians[1];
        s_summary.Add(($"large LSTM step time ({size})", $"cpu {cpuThreads} threads {medians[0] * 1000:0.0} ms, cuda {medians[1] * 1000:0.0} ms: {speedUp:0.0}×",
            $"cuda ≥ {LstmSpeedUpTarget:0}× faster", s_dryRun ? null : speedUp >= LstmSpeedUpTarget));
    }

    private static void W3(int cpuThreads, bool quick)
    {
        var rng = new System.Random(1);
        var x = Tensor.Zeros(W3Rows, 10, 2);
        var y = Tensor.Zeros(W3Rows, 1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        var xb = x.Slice(0, 50);
        var yb = y.Slice(0, 50);
        var runs = new List<(float[] Forward, List<float[]> StepWeights, double EpochLoss, List<float[]> EpochWeights, double Median)>();
        foreach (var backend in new[] { "cpu", "cuda" })
        {
            Backend.Use(backend);
            Threading.MaxThreads = cpuThreads;
            // Each check from the model's initial weights (BuildModel seeds them): a forward pass, one step, one epoch.
            var forward = W3Workload.BuildModel().Predict(x, batchSize: 50, verbose: 0).Span.ToArray();
            var stepped = W3Workload.BuildModel();
            stepped.TrainOnBatch(xb, yb);
            var model = W3Workload.BuildModel();
            var history = model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
            var epochWeights = Weights(model);
            model.ResetStates();
            var (median, best) = Harness.Time(() =>
            {
                model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
                model.ResetStates();
            }, repetitions: s_timedRepetitions ?? (quick ? 3 : 9), repetitionSeconds: 0.001, warmupSeconds: s_timedRepetitions is null ? (quick ? 0.5 : 2) : 0);
            runs.Add((forward, Weights(stepped), history["loss"][0], epochWeights, median));
            Console.WriteLine($"  W3 epoch on {backend}: {median * 1000:0.0} ms median, {best * 1000:0.0} best; first-epoch loss {history["loss"][0]:R}");
        }
        Backend.Use("cpu");
        Threading.MaxThreads = 1;
        var (cpu, cuda) = (runs[0], runs[1]);
        Agree($"W3 forward pass (Predict, {W3Rows} rows), cuda vs cpu", LargestRelativeDifference(cpu.Forward, cuda.Forward));
        Agree("W3 one training step: weights, cuda vs cpu", LargestDifference(cpu.StepWeights, cuda.StepWeights));
        Agree("W3 one epoch: loss, cuda vs cpu", Math.Abs(cpu.EpochLoss - cuda.EpochLoss) / Math.Abs(cpu.EpochLoss));
        Agree("W3 one epoch: weights, cuda vs cpu", LargestDifference(cpu.EpochWeights, cuda.EpochWeights));
        s_summary.Add(("W3 epoch time", $"cpu {cpuThreads} threads {cpu.Median * 1000:0.0} ms, cuda {cuda.Median * 1000:0.0} ms: {cpu.Median / cuda.Median:0.00}×",
            "cuda no slower than cpu", s_dryRun ? null : cuda.Median <= cpu.Median));
    }

    private static void Agree(string what, double difference) =>
        s_summary.Add((what, $"largest relative difference {difference:E2}", $"≤ {Agreement:0E0}", difference <= Agreement));

    private static void PrintSummary(bool dryRun)
    {
        Console.WriteLine();
        Console.WriteLine(dryRun
            ? "SUMMARY (dry run on ILGPU's CPU accelerator at toy sizes: the agreements are real, the times are not)"
            : "SUMMARY (paste into bench/results/cuda.md)");
        Console.WriteLine("| check | result | target | met |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (what, result, target, met) in s_summary)
            Console.WriteLine($"| {what} | {result} | {target} | {(met is null ? "n/a" : met.Value ? "yes" : "NO")} |");
    }

    private static List<float[]> Weights(Sequential model) => model.GetWeights().Select(w => w.Span.ToArray()).ToList();

    private static double LargestDifference(List<float[]> expected, List<float[]> actual) =>
        expected.Select((e, i) => LargestRelativeDifference(e, actual[i])).Max();

    private static double LargestRelativeDifference(float[] expected, float[] actual)
    {
        double mean = expected.Average(v => Math.Abs((double)v));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(Math.Abs(expected[i]), mean));
        return worst;
    }
}
