namespace Neurite.Data;

/// <summary>
/// Naive forecasts for the samples of a <see cref="WindowSet"/>, in the units of its target series. A
/// model that cannot beat <see cref="Persistence"/> has learned nothing about the future. Every baseline
/// reads only target values at or before each sample's forecast origin.
/// </summary>
public static class ForecastBaselines
{
    /// <summary>Persistence (random-walk) forecast: ŷ(t + h) = y(t) for every h, with t the origin.</summary>
    public static double[,] Persistence(WindowSet windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var forecast = new double[windows.Count, windows.Horizon];
        for (int i = 0; i < windows.Count; i++)
        {
            double last = windows.TargetAt(windows.Origin(i));
            for (int h = 0; h < windows.Horizon; h++) forecast[i, h] = last;
        }
        return forecast;
    }

    /// <summary>
    /// Seasonal naive forecast with season length m: ŷ(t + h) = y(t + h − m·⌈h/m⌉), the value one whole
    /// season (or more) before, so it is always at or before the origin t.
    /// </summary>
    /// <exception cref="NeuriteException">A sample's origin is too early in the series for that season.</exception>
    public static double[,] SeasonalNaive(WindowSet windows, int seasonLength)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (seasonLength < 1)
            throw new NeuriteException($"seasonLength must be at least 1; received {seasonLength}. Use 1 for persistence, 5 for business-day weeks, 7 for daily data with a weekly cycle.");
        var forecast = new double[windows.Count, windows.Horizon];
        for (int i = 0; i < windows.Count; i++)
        {
            int origin = windows.Origin(i);
            for (int h = 1; h <= windows.Horizon; h++)
            {
                int source = origin + h - seasonLength * ((h + seasonLength - 1) / seasonLength);
                if (source < 0)
                    throw new NeuriteException($"Window {i} has its origin at row {origin}, less than one season ({seasonLength}) into the series, so there is no seasonal value to repeat. Use a shorter season or drop the earliest windows.");
                forecast[i, h - 1] = windows.TargetAt(source);
            }
        }
        return forecast;
    }

    /// <summary>
    /// Mean forecast: ŷ(t + h) = mean of y(0) .. y(t), every target value known at the origin t
    /// (Hyndman's <c>meanf</c>, refitted at each origin).
    /// </summary>
    public static double[,] Mean(WindowSet windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var forecast = new double[windows.Count, windows.Horizon];
        for (int i = 0; i < windows.Count; i++)
        {
            int origin = windows.Origin(i);
            double sum = 0;
            int count = 0;
            for (int t = 0; t <= origin; t++)
            {
                double v = windows.TargetAt(t);
                if (double.IsNaN(v)) continue;
                sum += v;
                count++;
            }
            for (int h = 0; h < windows.Horizon; h++) forecast[i, h] = sum / count;
        }
        return forecast;
    }
}
