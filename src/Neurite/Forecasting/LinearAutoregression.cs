namespace Neurite.Forecasting;

/// <summary>
/// A linear autoregression on windows of a <see cref="SeriesForm"/>: step k's target is c_k + Σᵢ a_kᵢ xᵢ over the
/// window's inputs, one least-squares fit per step (a direct multi-step forecast). On the difference form this
/// is an ARIMA(p, 1, 0) with drift; on levels an AR(p) with mean.
/// </summary>
/// <remarks>Coefficients: Row k: the intercept, then one weight per input.</remarks>
public sealed record LinearAutoregression(SeriesForm Form, int Lookback, double[][] Coefficients)
{
    /// <summary>Forecast of steps 1..h from <paramref name="origin"/>, in the series' units.</summary>
    public void Forecast(IReadOnlyList<double> y, int origin, Span<double> destination)
    {
        Span<double> x = stackalloc double[Lookback];
        Form.Inputs(y, origin, Lookback, x);
        for (int k = 0; k < Coefficients.Length; k++)
            destination[k] = Form.Value(y, origin, Predict(k, x));
    }

    /// <summary>Step k's prediction in the form's units for inputs x.</summary>
    public double Predict(int k, ReadOnlySpan<double> x)
    {
        var c = Coefficients[k];
        double z = c[0];
        for (int i = 0; i < x.Length; i++) z += c[i + 1] * x[i];
        return z;
    }

    /// <summary>
    /// Fits every lookback in <paramref name="lookbacks"/> on the windows of y[0..<paramref name="end"/>) and keeps
    /// the one of lowest AICc on step 1 (each scored on the same targets, those the longest lookback can reach).
    /// </summary>
    public static LinearAutoregression? Select(IReadOnlyList<double> y, int end, SeriesForm form, IReadOnlyList<int> lookbacks, int horizon)
    {
        int longest = lookbacks.Max();
        int firstOrigin = longest - 1, lastOrigin = end - horizon - 1;
        int rows = lastOrigin - firstOrigin + 1;
        if (rows < 2 * longest + 4) return null;
        LinearAutoregression? best = null;
        double bestAicc = double.PositiveInfinity;
        foreach (int lookback in lookbacks.Distinct().Order())
        {
            var model = Fit(y, firstOrigin, lastOrigin, form, lookback, horizon, out double sse);
            if (model is null) continue;
            double aicc = EtsFitting.Aicc(sse, rows, lookback + 2);
            if (aicc < bestAicc) (best, bestAicc) = (model, aicc);
        }
        return best;
    }

    /// <summary>Least squares (with a vanishing ridge for stability) on the windows of origins firstOrigin..lastOrigin.</summary>
    internal static LinearAutoregression? Fit(IReadOnlyList<double> y, int firstOrigin, int lastOrigin, SeriesForm form, int lookback, int horizon, out double stepOneSse)
    {
        stepOneSse = double.PositiveInfinity;
        int p = lookback + 1, rows = lastOrigin - firstOrigin + 1;
        var xtx = new double[p, p];
        var xty = new double[horizon, p];
        var x = new double[p];
        x[0] = 1;
        for (int t = firstOrigin; t <= lastOrigin; t++)
        {
            form.Inputs(y, t, lookback, x.AsSpan(1));
            for (int i = 0; i < p; i++)
                for (int j = 0; j <= i; j++) xtx[i, j] += x[i] * x[j];
            for (int k = 0; k < horizon; k++)
            {
                double target = form.Target(y, t, k + 1);
                for (int i = 0; i < p; i++) xty[k, i] += x[i] * target;
            }
        }
        double ridge = 1e-8 * rows;
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < i; j++) xtx[j, i] = xtx[i, j];
            xtx[i, i] += i == 0 ? 1e-12 * rows : ridge;
        }
        var factor = Cholesky(xtx);
        if (factor is null) return null;
        var coefficients = new double[horizon][];
        for (int k = 0; k < horizon; k++)
        {
            var b = new double[p];
            for (int i = 0; i < p; i++) b[i] = xty[k, i];
            coefficients[k] = Solve(factor, b);
        }
        var model = new LinearAutoregression(form, lookback, coefficients);
        double sse = 0;
        for (int t = firstOrigin; t <= lastOrigin; t++)
        {
            form.Inputs(y, t, lookback, x.AsSpan(1));
            double e = form.Target(y, t, 1) - model.Predict(0, x.AsSpan(1));
            sse += e * e;
        }
        stepOneSse = sse;
        return double.IsFinite(sse) ? model : null;
    }

    private static double[,]? Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = a[i, j];
                for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (!(sum > 0)) return null;
                    l[i, i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i, j] = sum / l[j, j];
                }
            }
        return l;
    }

    private static double[] Solve(double[,] l, double[] b)
    {
        int n = b.Length;
        var z = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int k = 0; k < i; k++) sum -= l[i, k] * z[k];
            z[i] = sum / l[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = z[i];
            for (int k = i + 1; k < n; k++) sum -= l[k, i] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }
}
