using Neurite.Data;

namespace Neurite.Forecasting;

/// <summary>The period of a series' season, read from the autocorrelation of its training part.</summary>
public static class SeasonDetection
{
    /// <summary>The longest period detected: longer cycles leave too few seasons to learn from.</summary>
    public const int MaxPeriod = 120;

    /// <summary>
    /// The lag 2..L (L = min(<see cref="MaxPeriod"/>, n/3)) where the autocorrelation of the step-to-step changes
    /// peaks highest, if that peak is a local maximum above 0.2, above 2.6/√n and above twice Bartlett's standard error,
    /// √((1 + 2 Σₖ₌₁^{lag−1} rₖ²)/n), which grows when the changes are themselves autocorrelated (a smooth series'
    /// slowly decaying autocorrelation is not a season), and rising above the least autocorrelation at the lags before
    /// it by as much (a bump on a slow decay, as in a trending series with momentum, is not a season either);
    /// otherwise 1 (no season). Changes rather than levels, so
    /// that a trend does not look like a very long season.
    /// </summary>
    public static int Detect(IReadOnlyList<double> training)
    {
        ArgumentNullException.ThrowIfNull(training);
        int n = training.Count - 1;
        int maxLag = Math.Min(MaxPeriod, n / 3);
        if (maxLag < 2) return 1;
        var changes = new double[n];
        for (int i = 0; i < n; i++) changes[i] = training[i + 1] - training[i];
        double first = changes[0];
        if (changes.All(c => c == first)) return 1;
        double[] acf;
        try
        {
            acf = Statistics.Acf(changes, maxLag + 1);
        }
        catch (NeuriteException)
        {
            return 1;
        }
        int best = 1;
        double squares = acf[1] * acf[1];
        for (int lag = 2; lag <= maxLag; lag++)
        {
            double threshold = Math.Max(Math.Max(0.2, 2.6 / Math.Sqrt(n)), 2 * Math.Sqrt((1 + 2 * squares) / n));
            squares += acf[lag] * acf[lag];
            bool peak = acf[lag] >= acf[lag - 1] && acf[lag] >= acf[lag + 1];
            if (peak && acf[lag] > threshold && acf[lag] - Trough(acf, lag) > threshold && (best == 1 || acf[lag] > acf[best])) best = lag;
        }
        return best;
    }

    /// <summary>The least autocorrelation at lags 1..lag−1: a season's peak rises above the lags between.</summary>
    private static double Trough(double[] acf, int lag)
    {
        double least = double.PositiveInfinity;
        for (int j = 1; j < lag; j++) least = Math.Min(least, acf[j]);
        return least;
    }
}
