using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Xunit.Abstractions;

namespace Neurite.Tests.Kernels;

public class FastMathTests(ITestOutputHelper output)
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    private static float[] Sweep(float from, float to, float step)
    {
        var values = new List<float>();
        for (double x = from; x <= to; x += step) values.Add((float)x);
        values.AddRange([0f, -0f, 1e-30f, -1e-30f, float.Epsilon, 0.3999999f, 0.4f, 0.4000001f, -0.4f, 9f, -9f, 100f, -100f, 1e6f, -1e6f]);
        return values.ToArray();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ExpIsWithinFifteenHundredthsOfAMillionthRelative(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        var x = Sweep(-110f, 90f, 0.0037f);
        var y = new float[x.Length];
        FastMath.Exp(x, y);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp(x[i]);
            if (expected > float.MaxValue) { Assert.Equal(float.PositiveInfinity, y[i]); continue; }
            if (expected >= 1.1754944e-38)
            {
                double relative = Math.Abs(y[i] - expected) / expected;
                worst = Math.Max(worst, relative);
                Assert.True(relative <= 1.5e-7, $"exp({x[i]}) = {y[i]}, expected {expected} (relative error {relative:E2})");
            }
            else
            {
                // Denormal results carry fewer significant bits: allow two of the smallest steps.
                Assert.True(Math.Abs(y[i] - expected) <= 2.9e-45, $"exp({x[i]}) = {y[i]}, expected {expected}");
            }
        }
        output.WriteLine($"{path}: worst exp relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ExpHandlesInfinitiesAndNaN(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        float[] x = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f, 1f];
        var y = new float[x.Length];
        FastMath.Exp(x, y);
        Assert.Equal(float.PositiveInfinity, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal(1f, y[3]);
        Assert.Equal((float)Math.E, y[4], 6e-7f);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TanhIsWithinAMillionthAbsoluteAndSaturates(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        var x = Sweep(-20f, 20f, 0.00071f);
        var y = new float[x.Length];
        FastMath.Tanh(x, y);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double error = Math.Abs(y[i] - Math.Tanh(x[i]));
            worst = Math.Max(worst, error);
            Assert.True(error <= 1e-6, $"tanh({x[i]}) = {y[i]}, expected {Math.Tanh(x[i])} (error {error:E2})");
        }
        output.WriteLine($"{path}: worst tanh absolute error {worst:E2}");

        float[] special = [100f, -100f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        var result = new float[special.Length];
        FastMath.Tanh(special, result);
        // The rational form saturates at 1 − 2⁻²² (4 float steps below 1), not at 1.
        for (int i = 0; i < 4; i++) Assert.InRange(Math.Abs(result[i]), 1 - 2.4e-7, 1.0);
        Assert.Equal([1f, -1f, 1f, -1f], result[..4].Select(MathF.Sign).Select(s => (float)s));
        Assert.True(float.IsNaN(result[4]));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SigmoidIsWithinAMillionthAbsolute(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        var x = Sweep(-30f, 30f, 0.00093f);
        var y = new float[x.Length];
        FastMath.Sigmoid(x, y);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = 1 / (1 + Math.Exp(-(double)x[i]));
            double error = Math.Abs(y[i] - expected);
            worst = Math.Max(worst, error);
            Assert.True(error <= 1e-6, $"sigmoid({x[i]}) = {y[i]}, expected {expected} (error {error:E2})");
        }
        output.WriteLine($"{path}: worst sigmoid absolute error {worst:E2}");

        float[] special = [100f, -100f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f];
        var result = new float[special.Length];
        FastMath.Sigmoid(special, result);
        // 0.5·tanh(x/2) + 0.5 inherits tanh's saturation: within 1.2e-7 of 1 and of 0.
        foreach (int i in new[] { 0, 2 }) Assert.InRange(result[i], 1 - 1.2e-7, 1.0);
        foreach (int i in new[] { 1, 3 }) Assert.InRange(result[i], 0.0, 1.2e-7);
        Assert.True(float.IsNaN(result[4]));
        Assert.Equal(0.5f, result[5]);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void InPlaceGivesTheSameValuesAsSeparateBuffersForEveryLength(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        foreach (int length in new[] { 0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 100 })
        {
            var x = KernelPaths.RandomValues(length, length, scale: 6f);
            foreach (var function in new Action<float[], float[]>[] { (a, b) => FastMath.Exp(a, b), (a, b) => FastMath.Tanh(a, b), (a, b) => FastMath.Sigmoid(a, b) })
            {
                var separate = new float[length];
                function(x, separate);
                var inPlace = (float[])x.Clone();
                function(inPlace, inPlace);
                Assert.Equal(separate, inPlace);
            }
            // The tail must match the scalar algorithm's values within rounding, element by element.
            var tanh = new float[length];
            FastMath.Tanh(x, tanh);
            for (int i = 0; i < length; i++) Assert.Equal(Math.Tanh(x[i]), tanh[i], 1e-6);
        }
    }

    [Fact]
    public void PartlyOverlappingSpansAndShortOutputsAreRefused()
    {
        var buffer = new float[10];
        var error = Assert.Throws<ArgumentException>(() => FastMath.Tanh(buffer.AsSpan(0, 8), buffer.AsSpan(1, 8)));
        Assert.Contains("offset of", error.Message);
        error = Assert.Throws<ArgumentException>(() => FastMath.Exp(new float[5], new float[4]));
        Assert.Contains("x.Length = 5", error.Message);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AddBiasAddsTheBiasToEveryRow(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // By hand: [[1 2 3] [4 5 6]] + [10 20 30] = [[11 22 33] [14 25 36]].
        float[] small = [1, 2, 3, 4, 5, 6];
        FastMath.AddBias(small, [10f, 20f, 30f], 2, 3);
        Assert.Equal([11f, 22f, 33f, 14f, 25f, 36f], small);

        foreach (int cols in new[] { 1, 7, 16, 17, 40, 70, 129 })
        {
            const int rows = 5;
            var matrix = KernelPaths.RandomValues(rows * cols, cols);
            var bias = KernelPaths.RandomValues(cols, cols + 1);
            var expected = new float[matrix.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) expected[r * cols + c] = matrix[r * cols + c] + bias[c];
            FastMath.AddBias(matrix, bias, rows, cols);
            Assert.Equal(expected, matrix);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SumRowsSumsEachColumnAndCanAccumulate(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // By hand: columns of [[1 2 3] [4 5 6]] sum to [5 7 9]; accumulating onto [1 1 1] gives [6 8 10].
        var sums = new float[3];
        FastMath.SumRows([1f, 2, 3, 4, 5, 6], sums, 2, 3, accumulate: false);
        Assert.Equal([5f, 7f, 9f], sums);
        sums = [1f, 1f, 1f];
        FastMath.SumRows([1f, 2, 3, 4, 5, 6], sums, 2, 3, accumulate: true);
        Assert.Equal([6f, 8f, 10f], sums);

        foreach (int cols in new[] { 1, 15, 16, 17, 64, 65, 150, 400 })
            foreach (int rows in new[] { 0, 1, 50 })
            {
                var matrix = KernelPaths.RandomValues(rows * cols, rows * 1000 + cols);
                var start = KernelPaths.RandomValues(cols, cols);
                var result = (float[])start.Clone();
                FastMath.SumRows(matrix, result, rows, cols, accumulate: true);
                for (int c = 0; c < cols; c++)
                {
                    double expected = start[c];
                    for (int r = 0; r < rows; r++) expected += matrix[r * cols + c];
                    Assert.Equal(expected, result[c], (rows + 1) * 1.2e-7 * (rows + 1));
                }
            }
    }

    [Fact]
    public void MatrixHelpersRejectShortInputs()
    {
        var error = Assert.Throws<ArgumentException>(() => FastMath.AddBias(new float[5], new float[3], 2, 3));
        Assert.Contains("rows*cols = 2*3 = 6", error.Message);
        error = Assert.Throws<ArgumentException>(() => FastMath.SumRows(new float[6], new float[2], 2, 3, accumulate: false));
        Assert.Contains("cols = 3", error.Message);
    }
}
