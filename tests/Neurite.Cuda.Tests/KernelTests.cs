using Neurite.Activations;
using Neurite.Backends.Cpu;

namespace Neurite.Cuda.Tests;

/// <summary>Each coarse op of the CUDA backend against the CPU backend on the same inputs, on ILGPU's CPU accelerator and on a CUDA device where present.</summary>
public class KernelTests
{
    private const double Tolerance = 1e-5;
    private static readonly CpuBackend Cpu = new();

    public static TheoryData<string> Accelerators => ["cpu-accelerator", "cuda"];

    [Theory]
    [MemberData(nameof(Accelerators))]
    public void MatMulMatchesTheCpuInEveryTransposeAndAccumulateForm(string accelerator)
    {
        var device = Devices.For(accelerator);
        const int m = 7, k = 13, n = 9;
        var a = Close.Random(m * k, 1);
        var b = Close.Random(k * n, 2);
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    var expected = Close.Random(m * n, 3);
                    var actual = (float[])expected.Clone();
                    Cpu.MatMul(a, b, expected, m, k, n, transA, transB, accumulate);
                    device.MatMul(a, b, actual, m, k, n, transA, transB, accumulate);
                    Close.Assert(expected, actual, Tolerance, $"MatMul transA={transA} transB={transB} accumulate={accumulate}");
                }
    }

    [Theory]
    [MemberData(nameof(Accelerators))]
    public void BiasAddAndColumnSumsMatchTheCpu(string accelerator)
    {
        var device = Devices.For(accelerator);
        const int rows = 11, cols = 6;
        var matrix = Close.Random(rows * cols, 4);
        var bias = Close.Random(cols, 5);
        var expected = (float[])matrix.Clone();
        var actual = (float[])matrix.Clone();
        Cpu.AddBias(expected, bias, rows, cols);
        device.AddBias(actual, bias, rows, cols);
        Close.Assert(expected, actual, Tolerance, "AddBias");

        foreach (bool accumulate in new[] { false, true })
        {
            var sumsExpected = Close.Random(cols, 6);
            var sumsActual = (float[])sumsExpected.Clone();
            Cpu.SumRows(matrix, sumsExpected, rows, cols, accumulate);
            device.SumRows(matrix, sumsActual, rows, cols, accumulate);
            Close.Assert(sumsExpected, sumsActual, Tolerance, $"SumRows accumulate={accumulate}");
        }
    }

    [Theory]
    [MemberData(nameof(Accelerators))]
    public void ActivationsAndTheirGradientsMatchTheCpu(string accelerator)
    {
        var device = Devices.For(accelerator);
        // Wide enough to cover tanh's clamp at ±7.9 and sigmoid's tails.
        var x = Close.Random(300, 7, -12f, 12f);
        var da = Close.Random(300, 8);
        Compare(Cpu.Tanh, device.Tanh, "Tanh");
        Compare(Cpu.Sigmoid, device.Sigmoid, "Sigmoid");
        Compare(Cpu.Relu, device.Relu, "Relu");

        var expected = new float[x.Length];
        var actual = new float[x.Length];
        Cpu.ReluBackward(x, da, expected);
        device.ReluBackward(x, da, actual);
        Close.Assert(expected, actual, Tolerance, "ReluBackward");
        Cpu.Multiply(x, da, expected);
        device.Multiply(x, da, actual);
        Close.Assert(expected, actual, Tolerance, "Multiply");

        // tanh and sigmoid backward, and softmax forward and backward, against the CPU activations.
        foreach (var (name, code) in new[] { ("tanh", Kernels.DeviceMath.TanhCode), ("sigmoid", Kernels.DeviceMath.SigmoidCode) })
        {
            var function = ActivationFunction.Get(name);
            var a = new float[x.Length];
            function.Forward(x, a, x.Length);
            function.Backward(x, a, da, expected, x.Length);
            RunDevice(device, [a, da], actual, (ops, v, o, len) => ops.ActivationBackward(v[0], v[1], o, len, code));
            Close.Assert(expected, actual, Tolerance, name + " backward");
        }
        const int cols = 10, rows = 30;
        var softmaxExpected = new float[rows * cols];
        Softmax.Instance.Forward(x, softmaxExpected, cols);
        RunDevice(device, [x], actual, (ops, v, o, len) => ops.Softmax(v[0], o, rows, cols));
        Close.Assert(softmaxExpected, actual, Tolerance, "Softmax");
        Softmax.Instance.Backward(x, softmaxExpected, da, expected, cols);
        RunDevice(device, [softmaxExpected, da], actual, (ops, v, o, len) => ops.SoftmaxBackward(v[0], v[1], o, rows, cols));
        Close.Assert(expected, actual, Tolerance, "Softmax backward");

        void Compare(SpanMap cpu, SpanMap gpu, string what)
        {
            var e = new float[x.Length];
            var g = new float[x.Length];
            cpu(x, e);
            gpu(x, g);
            Close.Assert(e, g, Tolerance, what);
        }
    }

    [Theory]
    [MemberData(nameof(Accelerators))]
    public void DropoutKeepMasksMatchTheCpuBitForBit(string accelerator)
    {
        var device = Devices.For(accelerator);
        const int n = 203;
        var bits = new byte[(n + 7) / 8];
        Cpu.CreateDropoutSampler(new System.Random(9)).FillKeepBits(bits, n, 0.3);
        var input = Close.Random(n, 10);
        float keep = 1f / 0.7f;
        var expected = new float[n];
        var actual = new float[n];
        Cpu.MultiplyByKeepBits(input, bits, keep, expected);
        device.MultiplyByKeepBits(input, bits, keep, actual);
        Assert.Equal(expected, actual);
        Assert.Contains(0f, actual);
        Cpu.SpreadKeepBits(bits, keep, expected);
        device.SpreadKeepBits(bits, keep, actual);
        Assert.Equal(expected, actual);
    }

    private delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>Uploads the inputs, runs one DeviceOps call into a fresh output, and downloads it.</summary>
    internal static void RunDevice(CudaBackend device, float[][] inputs, float[] output,
        Action<DeviceOps, ILGPU.ArrayView<float>[], ILGPU.ArrayView<float>, int> call)
    {
        var buffers = inputs.Select(v => device.Ops.Allocate(v.Length)).ToArray();
        using var result = device.Ops.Allocate(output.Length);
        try
        {
            for (int i = 0; i < inputs.Length; i++) DeviceOps.Upload(inputs[i], buffers[i].View);
            call(device.Ops, buffers.Select(b => (ILGPU.ArrayView<float>)b.View).ToArray(), result.View, output.Length);
            device.Ops.Download(result.View, output);
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }
}
