using Neurite.Layers;

namespace Neurite.Tests.Core;

/// <summary>
/// Finite-difference gradient checks: compares a layer's analytic gradients with central
/// differences of the scalar L = Σ output · R for a fixed random R.
/// </summary>
internal static class GradientCheck
{
    public static void Layer(Layer layer, Tensor input, double step = 1e-2, double tolerance = 2e-3, int seed = 1)
    {
        var rng = new System.Random(seed);
        var output = layer.Forward(input, training: true);
        var r = new float[output.Size];
        for (int i = 0; i < r.Length; i++) r[i] = (float)(rng.NextDouble() * 2 - 1);
        var dOut = new Tensor((float[])r.Clone(), output.ShapeArray);
        var dIn = layer.Backward(dOut).Clone();
        var analytic = layer.Parameters.Select(p => p.Gradient.Clone()).ToList();

        double Objective()
        {
            var o = layer.Forward(input, training: true).Span;
            double s = 0;
            for (int i = 0; i < o.Length; i++) s += (double)o[i] * r[i];
            return s;
        }

        Compare("input", input.Span, dIn.Span, Objective, step, tolerance);
        for (int p = 0; p < layer.Parameters.Count; p++)
            Compare(layer.Parameters[p].Name, layer.Parameters[p].Value.Span, analytic[p].Span, Objective, step, tolerance);
    }

    /// <summary>Checks d objective / d values against <paramref name="analytic"/> by central differences.</summary>
    public static void Compare(string what, Span<float> values, ReadOnlySpan<float> analytic, Func<double> objective, double step, double tolerance)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float saved = values[i];
            values[i] = (float)(saved + step);
            double up = objective();
            values[i] = (float)(saved - step);
            double down = objective();
            values[i] = saved;
            double numeric = (up - down) / (2 * step);
            double err = Math.Abs(numeric - analytic[i]);
            Assert.True(err <= tolerance * Math.Max(1.0, Math.Abs(numeric)),
                $"{what}[{i}]: analytic {analytic[i]:G6} vs finite difference {numeric:G6} (|diff| {err:G3})");
        }
    }

    public static Tensor RandomTensor(System.Random rng, double scale, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return t;
    }
}
