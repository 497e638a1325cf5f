namespace Neurite.Forecasting;

/// <summary>The parts a forecast can be made of.</summary>
public static class ForecastComponent
{
    public const string Persistence = "persistence", SeasonalNaive = "seasonal_naive", Ets = "ets", Linear = "linear", Network = "network";

    /// <summary>Every part, in the order reports list them.</summary>
    public static readonly string[] All = [Persistence, SeasonalNaive, Ets, Linear, Network];
}

/// <summary>One way to combine the parts: weights that sum to 1, and its validation MAE (in the series' units).</summary>
public sealed record ForecastBlend(string Name, Dictionary<string, double> Weights, double ValidationMae);

/// <summary>
/// Everything a fitted <see cref="Forecaster"/> knows besides the network's weights: enough to repeat its
/// forecasts on any series that continues the training part. All values in the series' own units after dividing
/// by <see cref="Scale"/> (a power of two, so the division is exact).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>Lookback</c>: history the network reads; the linear model reads <see cref="LinearAutoregression.Lookback"/>,
/// the linear model the network corrects <c>NetworkBaseLookback</c>.</item>
/// <item><c>NetworkForm</c>: the form of the network's inputs (anchored at the last value); <c>NetworkMembers</c>: ensemble
/// members, 0 when there is no network; <c>NetworkWindows</c>: the windows each trained on (below
/// <see cref="Forecaster.MinNetworkWindows"/> the network does not compete).</item>
/// <item><c>Blend</c>: the forecast's combination; <c>Candidates</c>: every combination tried on validation, best first.</item>
/// <item><c>Interval80</c>, <c>Interval95</c>: half-widths of the intervals per step, split-conformal quantiles of the
/// validation errors in units of the local volatility (the mean absolute change over the last <c>VolatilityWindow</c>
/// steps before the origin, at least <c>VolatilityFloor</c>).</item>
/// </list>
/// </remarks>
public sealed record ForecasterState(
    int Horizon, int Season, double Scale, int TrainingCount, int ValidationCount,
    EtsModel Ets, LinearAutoregression Linear,
    int Lookback, SeriesForm? NetworkForm, int NetworkMembers, int NetworkHidden, int[] NetworkEpochs,
    ForecastBlend Blend, ForecastBlend[] Candidates, double[] Interval80, double[] Interval95, int VolatilityWindow = 20, double VolatilityFloor = 1e-12, int NetworkBaseLookback = 1, int NetworkWindows = 0)
{
    /// <summary>Each covariate's scale (its training mean absolute change), in the order given; empty for none.</summary>
    public double[] CovariateScales { get; init; } = [];

    /// <summary>Values each network reads: the series' window, then one window per covariate.</summary>
    public int NetworkInputs => Lookback * (1 + CovariateScales.Length);

    /// <summary>How many values must precede the first origin (the longest history any part reads).</summary>
    public int History => Math.Max(Math.Max(Linear.Lookback, NetworkMembers > 0 ? Math.Max(Lookback, NetworkBaseLookback) : 1), Season);

    /// <summary>A sentence on what the forecast is made of.</summary>
    public string Describe()
    {
        var parts = Blend.Weights.Where(w => w.Value > 0).Select(w => $"{(Blend.Weights.Count > 1 ? $"{w.Value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} x " : "")}{PartName(w.Key)}");
        return string.Join(" + ", parts);
    }

    /// <summary>A part's name for people.</summary>
    public string PartName(string component) => component switch
    {
        ForecastComponent.Persistence => "persistence",
        ForecastComponent.SeasonalNaive => $"seasonal naive (season {Season})",
        ForecastComponent.Ets => $"exponential smoothing {Ets.Name}",
        ForecastComponent.Linear => $"linear autoregression ({Linear.Lookback} steps, {Linear.Form.Kind.ToString().ToLowerInvariant()} form)",
        _ => $"network ensemble (median of {NetworkMembers}, {NetworkHidden} ReLU units, {Lookback} steps) on the linear autoregression",
    };
}
