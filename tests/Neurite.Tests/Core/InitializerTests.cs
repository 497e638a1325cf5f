using Neurite.Initializers;

namespace Neurite.Tests.Core;

/// <summary>
/// Statistical tests of Keras's variance-scaling and orthogonal initializers. Each moment is compared with the
/// value the formula gives, within six standard errors computed from the distribution's own higher moment and
/// the sample size: a seeded draw passes for sure, while a wrong fan, scale, distribution or an all-zero
/// weight is off by tens of standard errors.
/// </summary>
public class InitializerTests
{
    private const double StandardErrors = 6;

    // (fan_in, fan_out) = (200, 300) for a Dense kernel; for the rank-3 kernel the receptive field (3) multiplies both.
    public static TheoryData<string, int[], double> VarianceScalingCases => new()
    {
        { "glorot_uniform", [200, 300], 2.0 / (200 + 300) },
        { "glorot_normal", [200, 300], 2.0 / (200 + 300) },
        { "he_uniform", [200, 300], 2.0 / 200 },
        { "he_normal", [200, 300], 2.0 / 200 },
        { "lecun_uniform", [200, 300], 1.0 / 200 },
        { "lecun_normal", [200, 300], 1.0 / 200 },
        { "glorot_uniform", [3, 40, 50], 2.0 / (3 * 40 + 3 * 50) },
        { "he_normal", [3, 40, 50], 2.0 / (3 * 40) },
    };

    [Theory]
    [MemberData(nameof(VarianceScalingCases))]
    public void Variance_scaling_draws_have_the_keras_variance_mean_and_shape(string name, int[] shape, double variance)
    {
        var values = Draw(name, shape, seed: 11);
        AssertMoments(values, name.EndsWith("_uniform", StringComparison.Ordinal), variance, $"{name} {string.Join('x', shape)}");
    }

    /// <summary>
    /// Asserts that <paramref name="values"/> look like independent draws of Keras's uniform or truncated normal
    /// with the given variance: mean, variance, kurtosis and bound.
    /// </summary>
    internal static void AssertMoments(float[] values, bool uniform, double variance, string name)
    {
        // Moments of the unit-variance distribution: uniform on [-√3, √3], or a normal truncated to ±2 σ and
        // rescaled to unit variance (Keras's truncated_normal divided by 0.8796…).
        var (fourth, bound) = uniform ? (9.0 / 5, Math.Sqrt(3)) : TruncatedNormalUnitMoments();

        double n = values.Length, mean = 0, meanSquare = 0, meanFourth = 0, maxAbs = 0;
        foreach (double v in values)
        {
            mean += v / n;
            meanSquare += v * v / n;
            meanFourth += v * v * v * v / n;
            maxAbs = Math.Max(maxAbs, Math.Abs(v));
        }
        double sd = Math.Sqrt(variance);
        double meanError = sd / Math.Sqrt(n);
        double squareError = variance * Math.Sqrt((fourth - 1) / n);
        Assert.True(Math.Abs(mean) <= StandardErrors * meanError, $"{name}: mean {mean}, allowed ±{StandardErrors * meanError}");
        Assert.True(Math.Abs(meanSquare - variance) <= StandardErrors * squareError,
            $"{name}: variance {meanSquare}, expected {variance} ± {StandardErrors * squareError}");
        // The kurtosis tells uniform (1.8) from truncated normal (2.37) from an untruncated normal (3).
        double kurtosis = meanFourth / (meanSquare * meanSquare);
        Assert.InRange(kurtosis, fourth - 0.1, fourth + 0.1);
        Assert.True(maxAbs <= bound * sd * (1 + 1e-6), $"{name}: |value| {maxAbs} beyond the bound {bound * sd}");
        Assert.True(maxAbs >= 0.99 * bound * sd, $"{name}: largest |value| {maxAbs} never nears the bound {bound * sd}");
    }

    [Theory]
    [InlineData(64, 256)]   // an LSTM recurrent kernel (U, 4U): orthonormal rows
    [InlineData(256, 64)]   // tall: orthonormal columns
    [InlineData(50, 50)]
    [InlineData(37, 150)]   // columns of 150: the vector loops' tails
    [InlineData(151, 9)]
    public void Orthogonal_is_orthonormal_along_its_shorter_side_and_unbiased(int rows, int cols)
    {
        var w = Draw("orthogonal", [rows, cols], seed: 5);
        bool tall = rows >= cols;
        int k = Math.Min(rows, cols), len = Math.Max(rows, cols);
        double worst = 0;
        for (int a = 0; a < k; a++)
            for (int b = a; b < k; b++)
            {
                double dot = 0;
                for (int i = 0; i < len; i++)
                    dot += tall ? (double)w[i * cols + a] * w[i * cols + b] : (double)w[a * cols + i] * w[b * cols + i];
                worst = Math.Max(worst, Math.Abs(dot - (a == b ? 1 : 0)));
            }
        Assert.True(worst < 1e-5, $"largest |(WᵀW − I)| entry is {worst}");

        // Haar-distributed: the diagonal has mean 0 with standard error 1/√(len·k); an identity-like matrix has mean 1.
        double diagonalMean = 0;
        for (int i = 0; i < k; i++) diagonalMean += w[i * cols + i] / (double)k;
        Assert.True(Math.Abs(diagonalMean) <= StandardErrors / Math.Sqrt((double)len * k), $"diagonal mean {diagonalMean}");
        Assert.NotEqual(w, Draw("orthogonal", [rows, cols], seed: 6));
    }

    [Fact]
    public void Orthogonal_gain_scales_the_gram_matrix()
    {
        var w = new float[40 * 40];
        new Orthogonal(gain: 2).Fill(w, [40, 40], new System.Random(3));
        for (int a = 0; a < 40; a += 7)
            for (int b = 0; b < 40; b += 3)
            {
                double dot = 0;
                for (int i = 0; i < 40; i++) dot += (double)w[i * 40 + a] * w[i * 40 + b];
                Assert.Equal(a == b ? 4.0 : 0.0, dot, 1e-4);
            }
    }

    /// <summary>Draws the weight <paramref name="shape"/> with the named Keras initializer, as Dense does.</summary>
    internal static float[] Draw(string name, int[] shape, int seed)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        Initializer.Get(name).Fill(values, shape, new System.Random(seed));
        return values;
    }

    /// <summary>
    /// E[z⁴] and the bound of a unit normal truncated to [−2, 2] and rescaled to unit variance, by Simpson
    /// integration of the normal density (independent of the library's constant 0.8796…).
    /// </summary>
    internal static (double Fourth, double Bound) TruncatedNormalUnitMoments()
    {
        const int steps = 20_000;
        double h = 4.0 / steps, m0 = 0, m2 = 0, m4 = 0;
        for (int i = 0; i <= steps; i++)
        {
            double z = -2 + i * h, weight = i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2;
            double density = weight * Math.Exp(-z * z / 2);
            m0 += density;
            m2 += density * z * z;
            m4 += density * z * z * z * z;
        }
        double second = m2 / m0, fourth = m4 / m0;
        return (fourth / (second * second), 2 / Math.Sqrt(second));
    }
}
