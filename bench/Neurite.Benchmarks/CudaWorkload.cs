using System.Diagnostics;
using Neurite.Backends;
using Neurite.Backends.Cpu;
using Neurite.Cuda;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Benchmarks;

/// <summary>
/// Issue 15's GPU evidence, beside the CPU backend on 2 threads in the same run: one training step of a
/// large LSTM sequence (forward and backpropagation through time, U=1024, B=512, T=50, D=32) on the
/// device LSTM core and on the CPU core, with the largest difference between their results; then a W3
/// epoch on each backend from the same weights, with their losses.
/// </summary>
/// <remarks>
/// Options: <c>--quick</c> (fewer repetitions), <c>--cpu-threads N</c> (default 2, the project's machine),
/// <c>--dry-run</c> (ILGPU's CPU accelerator standing in for the GPU, at toy sizes: checks this workload's
/// code on a machine without one before the GPU's short time is spent on it).
/// </remarks>
internal static class CudaWorkload
{
    private static int Units = 1024, Batch = 512, Steps = 50, Features = 32, W3Rows = 2000;

    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int at = Array.IndexOf(args, "--cpu-threads");
        int cpuThreads = at >= 0 ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 2;
        CudaBackend device;
        if (args.Contains("--dry-run"))
        {
            (Units, Batch, Steps, Features, W3Rows) = (16, 8, 5, 4, 200);
            device = new CudaBackend(DeviceContext.CreateCpu());
            Backend.Register("cuda", () => device);
            Console.WriteLine("dry run: ILGPU's CPU accelerator stands in for the GPU, at toy sizes; the times mean nothing");
        }
        else
        {
            if (DeviceContext.FindMissingPiece() is { } missing)
            {
                Console.WriteLine("cuda: " + missing);
                Environment.Exit(2);
            }
            device = new CudaBackend(DeviceContext.CreateCuda());
            Console.WriteLine($"CUDA device: {device.Device.Accelerator.Name}; cuBLAS {device.Device.Blas!.Version}; CPU backend on {cpuThreads} thread(s)");
        }
        LargeLstm(device, cpuThreads, quick);
        W3(cpuThreads, quick);
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
            results.Add([(float[])output.Clone(), (float[])dx.Clone(), (float[])dKernel.Clone(), (float[])dRecurrent.Clone()]);
            int repetitions = name == "cpu" ? (quick ? 1 : 3) : (quick ? 5 : 20);
            var times = new List<double>();
            for (int r = 0; r < repetitions; r++)
            {
                var watch = Stopwatch.StartNew();
                Step();
                times.Add(watch.Elapsed.TotalSeconds);
            }
            times.Sort();
            double median = times[times.Count / 2];
            Console.WriteLine($"  large LSTM step (U={Units}, B={Batch}, T={Steps}, D={Features}) on {name}: {median * 1000:0.0} ms median of {repetitions}, " +
                $"best {times[0] * 1000:0.0} ms, {flop / median / 1e9:0} GFLOP/s");
        }
        string[] names = ["output", "dx", "dKernel", "dRecurrentKernel"];
        for (int i = 0; i < names.Length; i++)
            Console.WriteLine($"    {names[i]}: largest difference cuda vs cpu {LargestRelativeDifference(results[0][i], results[1][i]):E2} (relative to the larger of the value and the mean magnitude)");
        Threading.MaxThreads = 1;
    }

    private static void W3(int cpuThreads, bool quick)
    {
        var rng = new System.Random(1);
        var x = Tensor.Zeros(W3Rows, 10, 2);
        var y = Tensor.Zeros(W3Rows, 1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        var losses = new List<double>();
        foreach (var backend in new[] { "cpu", "cuda" })
        {
            Backend.Use(backend);
            Threading.MaxThreads = cpuThreads;
            var model = W3Workload.BuildModel();
            var history = model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
            losses.Add(history["loss"][0]);
            model.ResetStates();
            var (median, best) = Harness.Time(() =>
            {
                model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
                model.ResetStates();
            }, repetitions: quick ? 3 : 9, repetitionSeconds: 0.001, warmupSeconds: quick ? 0.5 : 2);
            Console.WriteLine($"  W3 epoch on {backend}: {median * 1000:0.0} ms median, {best * 1000:0.0} best; first-epoch loss {losses[^1]:R}");
        }
        Backend.Use("cpu");
        Threading.MaxThreads = 1;
        Console.WriteLine($"    first-epoch loss, cuda vs cpu from the same weights: relative difference {Math.Abs(losses[1] - losses[0]) / Math.Abs(losses[0]):E2}");
    }

    private static double LargestRelativeDifference(float[] expected, float[] actual)
    {
        double mean = expected.Average(v => Math.Abs((double)v));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(Math.Abs(expected[i]), mean));
        return worst;
    }
}
