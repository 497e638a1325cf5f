using System.Globalization;
using System.Text.Json.Nodes;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>MAE, RMSE, MAPE and MASE of one forecast, each NaN where it is undefined (MAPE at a zero actual, MASE on a constant series).</summary>
internal sealed record ForecastErrors(string Name, double Mae, double Rmse, double Mape, double Mase)
{
    /// <summary>
    /// The scores of <paramref name="forecast"/> against <paramref name="actual"/>, both given divided by
    /// <paramref name="scale"/> (so that squares of very large or very small values neither overflow nor vanish);
    /// MAE and RMSE are reported back in the series' units.
    /// </summary>
    public static ForecastErrors Of(string name, double[] actual, double[] forecast, IReadOnlyList<double> trainingSeries, double scale = 1) => new(
        name,
        scale * ForecastScores.MeanAbsoluteError(actual, forecast),
        scale * ForecastScores.RootMeanSquaredError(actual, forecast),
        actual.Any(a => a == 0) ? double.NaN : ForecastScores.MeanAbsolutePercentageError(actual, forecast),
        ScaledError(actual, forecast, trainingSeries));

    private static double ScaledError(double[] actual, double[] forecast, IReadOnlyList<double> trainingSeries)
    {
        try
        {
            return ForecastScores.MeanAbsoluteScaledError(actual, forecast, trainingSeries);
        }
        catch (NeuriteException)
        {
            return double.NaN;
        }
    }

    public string[] Row() => [Name, Num(Mae), Num(Rmse), Mape is double m && double.IsFinite(m) ? CommandOutput.Num(m, "0.00") + "%" : "n/a", CommandOutput.Num(Mase)];

    public JsonObject ToJson() => new()
    {
        ["mae"] = CommandOutput.Number(Mae),
        ["rmse"] = CommandOutput.Number(Rmse),
        ["mape"] = CommandOutput.Number(Mape),
        ["mase"] = CommandOutput.Number(Mase),
    };

    public static readonly string[] Header = ["forecast", "MAE", "RMSE", "MAPE", "MASE"];

    public static string Text(IReadOnlyList<ForecastErrors> rows)
    {
        int w = Math.Max(8, rows.Max(r => r.Name.Length));
        var lines = new List<string> { $"{"forecast".PadRight(w)}  {"MAE",12}  {"RMSE",12}  {"MAPE",9}  {"MASE",8}" };
        foreach (var r in rows)
        {
            var cells = r.Row();
            lines.Add($"{cells[0].PadRight(w)}  {cells[1],12}  {cells[2],12}  {cells[3],9}  {cells[4],8}");
        }
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>A plain sentence on whether the model beats persistence, by test MAE.</summary>
    public static string Verdict(ForecastErrors model, ForecastErrors persistence)
    {
        string m = Num(model.Mae), p = Num(persistence.Mae);
        if (model.Mae < persistence.Mae)
            return $"The model beats persistence: its test MAE ({m}) is {CommandOutput.Num(100 * (1 - model.Mae / persistence.Mae), "0.0")}% below that of repeating the last known value ({p}).";
        if (model.Mae > persistence.Mae)
            return $"The model does not beat persistence: its test MAE ({m}) is {(persistence.Mae == 0 ? "above" : CommandOutput.Num(100 * (model.Mae / persistence.Mae - 1), "0.0") + "% above")} that of repeating the last known value ({p}), so use the naive forecast, or give more history.";
        return $"The model and persistence tie: both have a test MAE of {m}.";
    }

    /// <summary>Which of <paramref name="rows"/> has the lowest MAE, and by how much it beats the next, as a sentence.</summary>
    public static (string Name, string Sentence) Best(IReadOnlyList<ForecastErrors> rows)
    {
        var ranked = rows.Where(r => double.IsFinite(r.Mae)).OrderBy(r => r.Mae).ToList();
        if (ranked.Count < 2) return (ranked.FirstOrDefault()?.Name ?? "", "");
        var (best, next) = (ranked[0], ranked[1]);
        string margin = best.Mae == next.Mae ? $"tied with {next.Name}"
            : next.Mae == 0 ? $"below {next.Name}" : $"{CommandOutput.Num(100 * (1 - best.Mae / next.Mae), "0.0")}% below the next best, {next.Name} ({Num(next.Mae)})";
        return (best.Name, $"Best on the test part of all {ranked.Count} forecasts: {best.Name}, MAE {Num(best.Mae)}, {margin}.");
    }

    /// <summary>A number for people: four decimals in the usual range, significant digits for very large or very small values.</summary>
    public static string Num(double value) =>
        !double.IsFinite(value) ? "n/a"
        : value == 0 || (Math.Abs(value) >= 1e-3 && Math.Abs(value) < 1e9) ? value.ToString("0.0000", CultureInfo.InvariantCulture)
        : value.ToString("0.####E+0", CultureInfo.InvariantCulture);
}

/// <summary>Every test score of one forecast run: the forecast, its parts and the naive forecasts, by step, and the interval coverage.</summary>
internal sealed record ForecastScoreSet(double[] Actual, ForecastErrors Model, ForecastErrors Persistence, ForecastErrors? Seasonal, ForecastErrors Ets,
    ForecastErrors Linear, ForecastErrors Network, double[] StepMae, double Coverage80, double Coverage95, string Verdict, string BestName, string BestSentence)
{
    /// <summary>The rows of the scores table: the forecast first, then its parts and the naive forecasts.</summary>
    public IReadOnlyList<ForecastErrors> Rows =>
        new[] { Model, Ets, Linear, Network, Persistence, Seasonal }.OfType<ForecastErrors>().ToList();

    /// <summary>Scores of <paramref name="set"/> against <paramref name="values"/>; MASE is scaled by the values before <paramref name="firstTarget"/>.</summary>
    public static ForecastScoreSet Of(Neurite.Forecasting.ForecasterState state, Neurite.Forecasting.ForecastSet set, double[] values, int firstTarget)
    {
        double scale = state.Scale;
        int h = state.Horizon, count = set.Count;
        var actual = new double[count * h];
        for (int i = 0; i < count; i++)
            for (int k = 0; k < h; k++) actual[i * h + k] = values[set.FirstOrigin + i + k + 1] / scale;
        var training = values[..firstTarget].Select(v => v / scale).ToArray();
        double[] Flat(double[,] f) => Divided(f, scale);
        ForecastErrors Score(string name, double[,] f) => ForecastErrors.Of(name, actual, Flat(f), training, scale);
        var model = Score("the model", set.Forecast);
        var persistence = Score("persistence", set.Parts[Neurite.Forecasting.ForecastComponent.Persistence]);
        ForecastErrors? seasonal = set.Parts.TryGetValue(Neurite.Forecasting.ForecastComponent.SeasonalNaive, out var s) ? Score($"seasonal naive (season {state.Season})", s) : null;
        var ets = Score($"ETS alone, {state.Ets.Name}", set.Parts[Neurite.Forecasting.ForecastComponent.Ets]);
        var linear = Score("linear alone", set.Parts[Neurite.Forecasting.ForecastComponent.Linear]);
        var network = Score("network alone", set.Parts[Neurite.Forecasting.ForecastComponent.Network]);

        var stepMae = new double[h];
        int in80 = 0, in95 = 0;
        for (int i = 0; i < count; i++)
            for (int k = 0; k < h; k++)
            {
                double a = values[set.FirstOrigin + i + k + 1];
                stepMae[k] += Math.Abs(a / scale - set.Forecast[i, k] / scale) / count;
                if (a >= set.Lower80[i, k] && a <= set.Upper80[i, k]) in80++;
                if (a >= set.Lower95[i, k] && a <= set.Upper95[i, k]) in95++;
            }
        for (int k = 0; k < h; k++) stepMae[k] *= scale;
        var (bestName, bestSentence) = ForecastErrors.Best(new[] { model, persistence, seasonal, ets }.OfType<ForecastErrors>().ToList());
        return new ForecastScoreSet(actual, model, persistence, seasonal, ets, linear, network, stepMae, (double)in80 / actual.Length, (double)in95 / actual.Length,
            ForecastErrors.Verdict(model, persistence), bestName, bestSentence);
    }

    private static double[] Divided(double[,] values, double scale)
    {
        var flat = new double[values.Length];
        int i = 0;
        foreach (var v in values) flat[i++] = v / scale;
        return flat;
    }
}
