using Neurite.Backends;
using Neurite.Backends.Cpu;

namespace Neurite.Cuda.Tests;

/// <summary>The CUDA backend's <see cref="IBackend.Loss"/> (device kernels, Huber on the CPU) against the CPU backend's.</summary>
public class BackendLossTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (var kind in Enum.GetNames<Backends.LossKind>())
                foreach (bool weighted in new[] { false, true })
                    data.Add(accelerator, kind, weighted);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossAndGradientMatchTheCpuBackend(string accelerator, string kindName, bool weighted)
    {
        var kind = Enum.Parse<Backends.LossKind>(kindName);
        var backend = Devices.For(accelerator);
        const int rows = 7, width = 4, averageOver = 10;
        var pred = Close.Random(rows * width, 21, 0.02f, 1f);
        for (int r = 0; r < rows; r++)
        {
            float sum = 0;
            for (int k = 0; k < width; k++) sum += pred[r * width + k];
            for (int k = 0; k < width; k++) pred[r * width + k] /= sum;
        }
        var truth = kind == Backends.LossKind.SparseCategoricalCrossentropy
            ? Enumerable.Range(0, rows).Select(r => (float)((r * 3) % width)).ToArray()
            : Close.Random(rows * width, 22, 0f, 1f);
        var weights = weighted ? Close.Random(rows, 23, 0.5f, 2f) : [];
        const double delta = 0.3;

        var expectedGradient = new float[rows * width];
        double expected = new CpuBackend().Loss(kind, delta, pred, truth, expectedGradient, weights, rows, width, averageOver);
        var gradient = new float[rows * width];
        double actual = backend.Loss(kind, delta, pred, truth, gradient, weights, rows, width, averageOver);
        double lossOnly = backend.Loss(kind, delta, pred, truth, Span<float>.Empty, weights, rows, width, averageOver);

        Assert.True(expected > 0, $"{kind}: the reference loss {expected} should be positive on these values");
        Assert.True(Math.Abs(expected - actual) <= Tolerance * expected, $"{kind}: loss {actual} vs the CPU backend's {expected}");
        Assert.Equal(actual, lossOnly);
        Close.Assert(expectedGradient, gradient, Tolerance, kind + " gradient");
    }
}
