namespace Neurite.Forecasting;

/// <summary>
/// Derivative-free minimisation (Nelder and Mead 1965, with the standard coefficients: reflection 1,
/// expansion 2, contraction ½, shrink ½), enough for the handful of smoothing parameters of a model.
/// </summary>
internal static class NelderMead
{
    /// <summary>The point of lowest <paramref name="f"/> found from <paramref name="start"/>, and its value.</summary>
    /// <remarks>steps: Initial simplex: one vertex per coordinate, moved from the start by its step.</remarks>
    public static (double[] Point, double Value) Minimise(Func<double[], double> f, double[] start, double[] steps,
        int maxEvaluations = 2000, double tolerance = 1e-10)
    {
        int d = start.Length;
        var points = new double[d + 1][];
        var values = new double[d + 1];
        for (int i = 0; i <= d; i++)
        {
            points[i] = (double[])start.Clone();
            if (i > 0) points[i][i - 1] += steps[i - 1];
            values[i] = Safe(f(points[i]));
        }
        int evaluations = d + 1;
        var centroid = new double[d];
        var trial = new double[d];
        var second = new double[d];
        var order = new int[d + 1];
        while (evaluations < maxEvaluations)
        {
            for (int i = 0; i <= d; i++) order[i] = i;
            Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
            int best = order[0], worst = order[d], nextWorst = order[d - 1 < 0 ? 0 : d - 1];
            if (Math.Abs(values[worst] - values[best]) <= tolerance * (Math.Abs(values[best]) + tolerance)) break;
            Array.Clear(centroid);
            for (int i = 0; i <= d; i++)
                if (i != worst)
                    for (int j = 0; j < d; j++) centroid[j] += points[i][j] / d;
            for (int j = 0; j < d; j++) trial[j] = centroid[j] + (centroid[j] - points[worst][j]);
            double reflected = Safe(f(trial));
            evaluations++;
            if (reflected < values[best])
            {
                for (int j = 0; j < d; j++) second[j] = centroid[j] + 2 * (centroid[j] - points[worst][j]);
                double expanded = Safe(f(second));
                evaluations++;
                Replace(points, values, worst, expanded < reflected ? second : trial, Math.Min(expanded, reflected));
                continue;
            }
            if (reflected < values[nextWorst])
            {
                Replace(points, values, worst, trial, reflected);
                continue;
            }
            bool outside = reflected < values[worst];
            for (int j = 0; j < d; j++)
                second[j] = outside ? centroid[j] + 0.5 * (trial[j] - centroid[j]) : centroid[j] + 0.5 * (points[worst][j] - centroid[j]);
            double contracted = Safe(f(second));
            evaluations++;
            if (contracted < Math.Min(reflected, values[worst]))
            {
                Replace(points, values, worst, second, contracted);
                continue;
            }
            for (int i = 0; i <= d; i++)
            {
                if (i == best) continue;
                for (int j = 0; j < d; j++) points[i][j] = points[best][j] + 0.5 * (points[i][j] - points[best][j]);
                values[i] = Safe(f(points[i]));
                evaluations++;
            }
        }
        int min = 0;
        for (int i = 1; i <= d; i++) if (values[i] < values[min]) min = i;
        return (points[min], values[min]);
    }

    private static void Replace(double[][] points, double[] values, int index, double[] point, double value)
    {
        Array.Copy(point, points[index], point.Length);
        values[index] = value;
    }

    private static double Safe(double v) => double.IsNaN(v) ? double.PositiveInfinity : v;
}
