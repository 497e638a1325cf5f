namespace Neurite.Forecasting;

/// <summary>An exponential-smoothing model fitted to a series, with its one-step SSE and AICc there.</summary>
public sealed record EtsFit(EtsModel Model, double Sse, int Count, double Aicc);

/// <summary>
/// Fits <see cref="EtsModel"/>s by least squares of the one-step errors (the maximum-likelihood estimate under
/// Gaussian additive errors) and picks one by AICc, as R's <c>forecast::ets</c> does.
/// </summary>
/// <remarks>
/// Smoothing parameters keep R's "usual" region: 0 &lt; α &lt; 1, 0 &lt; β &lt; α, 0 &lt; γ &lt; 1 − α, 0.8 ≤ φ ≤ 0.98, by
/// mapping unbounded coordinates through logistic functions. The initial level and trend are optimised from
/// Hyndman's heuristic start (a regression on the first seasonally adjusted values); the initial seasonal states
/// keep the heuristic's classical-decomposition indices.
/// </remarks>
public static class EtsFitting
{
    /// <summary>Every model family this series allows: seasonal ones when 2 ≤ m and three seasons fit, multiplicative ones when y &gt; 0.</summary>
    public static IEnumerable<(EtsTrend Trend, EtsSeason Season)> Families(IReadOnlyList<double> y, int period)
    {
        bool seasonal = period >= 2 && period <= MaxPeriod && y.Count >= 3 * period;
        bool positive = y.All(v => v > 0);
        foreach (var trend in new[] { EtsTrend.None, EtsTrend.Additive, EtsTrend.Damped })
        {
            yield return (trend, EtsSeason.None);
            if (!seasonal) continue;
            yield return (trend, EtsSeason.Additive);
            if (positive) yield return (trend, EtsSeason.Multiplicative);
        }
    }

    /// <summary>The longest season a model fits states for (R's ets refuses above 24; weekly data needs 52).</summary>
    public const int MaxPeriod = 52;

    /// <summary>The family of lowest AICc on <paramref name="y"/>.</summary>
    public static EtsFit Select(IReadOnlyList<double> y, int period)
    {
        EtsFit? best = null;
        foreach (var (trend, season) in Families(y, period))
        {
            var fit = Fit(y, trend, season, period);
            if (fit is not null && (best is null || fit.Aicc < best.Aicc)) best = fit;
        }
        return best ?? throw new NeuriteException($"No exponential-smoothing model could be fitted to these {y.Count} values.");
    }

    /// <summary>Fits one family; null when the data cannot carry it (too short, or states that turn non-positive).</summary>
    public static EtsFit? Fit(IReadOnlyList<double> y, EtsTrend trend, EtsSeason season, int period)
    {
        int n = y.Count;
        if (n < 4 || (season != EtsSeason.None && n < 2 * period + 2)) return null;
        var (level0, trend0, seasonal0) = HeuristicStart(y, season, season == EtsSeason.None ? 1 : period);
        if (season != EtsSeason.Multiplicative && seasonal0.Length > 0 && seasonal0.Any(double.IsNaN)) return null;
        double spread = 0;
        for (int t = 1; t < n; t++) spread += Math.Abs(y[t] - y[t - 1]);
        spread = Math.Max(spread / (n - 1), 1e-12 * (Math.Abs(level0) + 1));
        bool hasTrend = trend != EtsTrend.None, damped = trend == EtsTrend.Damped, hasSeason = season != EtsSeason.None;

        EtsModel Build(double[] p)
        {
            int i = 0;
            double alpha = Logistic(p[i++]);
            double beta = hasTrend ? alpha * Logistic(p[i++]) : 0;
            double gamma = hasSeason ? (1 - alpha) * Logistic(p[i++]) : 0;
            double phi = damped ? 0.8 + 0.18 * Logistic(p[i++]) : 1;
            double l0 = level0 + spread * p[i++];
            double b0 = hasTrend ? trend0 + 0.1 * spread * p[i++] : 0;
            return new EtsModel(trend, season, hasSeason ? period : 1, alpha, beta, gamma, phi, l0, b0, seasonal0);
        }

        // Starting values near R's: α = 0.5 of its range is too eager for noisy series, so start lower.
        var start = new List<double> { Logit(0.3) };
        if (hasTrend) start.Add(Logit(0.1));
        if (hasSeason) start.Add(Logit(0.1));
        if (damped) start.Add(Logit((0.95 - 0.8) / 0.18));
        start.Add(0);
        if (hasTrend) start.Add(0);
        var steps = Enumerable.Repeat(1.0, start.Count).ToArray();
        var (point, sse) = NelderMead.Minimise(p => Build(p).SumOfSquaredErrors(y), start.ToArray(), steps, maxEvaluations: 400 * start.Count);
        if (!double.IsFinite(sse)) return null;
        var model = Build(point);
        return new EtsFit(model, sse, n, Aicc(sse, n, model.ParameterCount + 1));
    }

    /// <summary>AICc of a Gaussian model with <paramref name="k"/> parameters whose residual sum of squares over n values is sse.</summary>
    public static double Aicc(double sse, int n, int k)
    {
        double logLikelihood = -0.5 * n * (Math.Log(2 * Math.PI * Math.Max(sse, double.Epsilon) / n) + 1);
        double aic = -2 * logLikelihood + 2 * k;
        return n - k - 1 > 0 ? aic + 2.0 * k * (k + 1) / (n - k - 1) : double.PositiveInfinity;
    }

    /// <summary>
    /// Hyndman et al. (2008, §2.6.1): seasonal indices from a classical decomposition of the first seasons (a
    /// centred moving average of one season), then level and trend from a regression on the first ten seasonally
    /// adjusted values; the intercept is the level one step before y[0].
    /// </summary>
    internal static (double Level, double Trend, double[] Seasonal) HeuristicStart(IReadOnlyList<double> y, EtsSeason season, int m)
    {
        var seasonal = Array.Empty<double>();
        var adjusted = y.ToArray();
        if (season != EtsSeason.None)
        {
            int span = Math.Min(y.Count / m, 4) * m;
            var trend = CentredMovingAverage(y, span, m);
            var sums = new double[m];
            var counts = new int[m];
            for (int t = 0; t < span; t++)
            {
                if (double.IsNaN(trend[t])) continue;
                sums[t % m] += season == EtsSeason.Additive ? y[t] - trend[t] : y[t] / trend[t];
                counts[t % m]++;
            }
            seasonal = new double[m];
            for (int j = 0; j < m; j++) seasonal[j] = counts[j] > 0 ? sums[j] / counts[j] : (season == EtsSeason.Additive ? 0 : 1);
            double mean = seasonal.Average();
            for (int j = 0; j < m; j++) seasonal[j] = season == EtsSeason.Additive ? seasonal[j] - mean : seasonal[j] / mean;
            for (int t = 0; t < adjusted.Length; t++)
                adjusted[t] = season == EtsSeason.Additive ? y[t] - seasonal[t % m] : y[t] / seasonal[t % m];
        }
        int count = Math.Min(10, adjusted.Length);
        double meanT = (count + 1) / 2.0, meanY = 0;
        for (int t = 0; t < count; t++) meanY += adjusted[t] / count;
        double sxy = 0, sxx = 0;
        for (int t = 0; t < count; t++)
        {
            sxy += (t + 1 - meanT) * (adjusted[t] - meanY);
            sxx += (t + 1 - meanT) * (t + 1 - meanT);
        }
        double slope = sxx > 0 ? sxy / sxx : 0;
        return (meanY - slope * meanT, slope, seasonal);
    }

    private static double[] CentredMovingAverage(IReadOnlyList<double> y, int span, int m)
    {
        var result = new double[span];
        Array.Fill(result, double.NaN);
        int half = m / 2;
        for (int t = half; t + half < span; t++)
        {
            double sum = 0;
            if (m % 2 == 1)
            {
                for (int i = t - half; i <= t + half; i++) sum += y[i];
                result[t] = sum / m;
            }
            else
            {
                // 2×m moving average: the two ends weigh a half each.
                for (int i = t - half + 1; i < t + half; i++) sum += y[i];
                sum += 0.5 * (y[t - half] + y[t + half]);
                result[t] = sum / m;
            }
        }
        return result;
    }

    internal static double Logistic(double x) => 1 / (1 + Math.Exp(-x));

    internal static double Logit(double p) => Math.Log(p / (1 - p));
}
