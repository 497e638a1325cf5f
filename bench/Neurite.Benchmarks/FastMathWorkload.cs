using System.Runtime.Intrinsics;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Benchmarks;

/// <summary>Element-wise kernels on an LSTM gate buffer (50 × 400).</summary>
internal static class FastMathWorkload
{
    public static void Run(string[] args)
    {
        int pathIndex = Array.IndexOf(args, "--path");
        if (pathIndex >= 0) KernelSelector.Force(Enum.Parse<KernelPath>(args[pathIndex + 1], ignoreCase: true));
        const int rows = 50, cols = 400;
        var random = new System.Random(1);
        var x = new float[rows * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 8 - 4);
        var y = new float[x.Length];
        var bias = new float[cols];
        var sums = new float[cols];
        Console.WriteLine($"kernel path {KernelSelector.Current}; {rows}x{cols} = {x.Length} values");
        Report("Exp", () => FastMath.Exp(x, y), x.Length);
        Report("Tanh", () => FastMath.Tanh(x, y), x.Length);
        Report("Tanh in place", () => FastMath.Tanh(y, y), x.Length);
        Report("Sigmoid", () => FastMath.Sigmoid(x, y), x.Length);
        Report("AddBias", () => FastMath.AddBias(y, bias, rows, cols), x.Length);
        Report("SumRows", () => FastMath.SumRows(x, sums, rows, cols, accumulate: false), x.Length);
        Report("Gate tanh", () => GateTanh(x, y), x.Length);
    }

    /// <summary>The LSTM cell pass's tanh (<c>GateMath.Tanh</c>, Vector512) over a buffer.</summary>
    private static void GateTanh(float[] x, float[] y)
    {
        for (int i = 0; i + 16 <= x.Length; i += 16)
            Neurite.Backends.Cpu.Kernels.Recurrent.GateMath.Apply(Neurite.Backends.GateActivation.Tanh, Vector512.LoadUnsafe(ref x[i])).StoreUnsafe(ref y[i]);
    }

    private static void Report(string name, Action call, int count)
    {
        var (median, best) = Harness.Time(call);
        double allocated = Harness.AllocatedBytesPerCall(call);
        Console.WriteLine($"{name,-16} median {median * 1e6,8:F2} µs  best {best * 1e6,8:F2} µs  {count / best / 1e9,6:F2} Gelem/s at best  {allocated:F0} B/call");
    }
}
