namespace Neurite.Tests.Recurrent;

/// <summary>Central finite differences of a double-precision loss, and a tolerant comparison.</summary>
internal static class GradientCheck
{
    public const double Epsilon = 1e-5;

    /// <summary>∂loss/∂p[i] for every i, perturbing <paramref name="parameter"/> in place and restoring it.</summary>
    public static double[] Numeric(double[] parameter, Func<double> loss)
    {
        var gradient = new double[parameter.Length];
        for (int i = 0; i < parameter.Length; i++)
        {
            double saved = parameter[i];
            parameter[i] = saved + Epsilon;
            double plus = loss();
            parameter[i] = saved - Epsilon;
            double minus = loss();
            parameter[i] = saved;
            gradient[i] = (plus - minus) / (2 * Epsilon);
        }
        return gradient;
    }

    /// <summary>Σ values ⊙ weights: the scalar loss whose gradient wrt values is weights.</summary>
    public static double WeightedSum(double[] values, double[]? weights)
    {
        if (weights is null) return 0;
        double sum = 0;
        for (int i = 0; i < values.Length; i++) sum += values[i] * weights[i];
        return sum;
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, string what,
        double relative = 1e-3, double absolute = 1e-4)
    {
        Assert.True(actual.Length == expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= absolute + relative * Math.Abs(expected[i]) && !double.IsNaN(actual[i]),
                $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9} (error {error:G3}).");
        }
    }

    public static double[] RandomDoubles(System.Random rng, int count, double scale)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = (rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>A Keras-style dropout mask: each entry 0 with probability rate, else 1/(1-rate).</summary>
    public static double[] RandomMask(System.Random rng, int count, double rate)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = rng.NextDouble() < rate ? 0 : 1 / (1 - rate);
        return values;
    }

    public static float[] ToFloat(double[]? values) => values is null ? [] : Array.ConvertAll(values, v => (float)v);

    /// <summary>
    /// The double values the float path actually sees: rounding the inputs to float first makes the
    /// double reference differentiate the same function the float code evaluates.
    /// </summary>
    public static double[] RoundToFloat(double[] values) => Array.ConvertAll(values, v => (double)(float)v);

    /// <summary>
    /// Two float results agree to 1e-5 relative: kernel paths sum GEMM products in different
    /// orders, so only the gate math is bit-identical across them.
    /// </summary>
    public static void AssertNear(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9}.");
    }
}
