using System.Text.Json.Nodes;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>MAE, RMSE, MAPE and MASE of one forecast, each NaN where it is undefined (MAPE at a zero actual, MASE on a constant series).</summary>
internal sealed record ForecastErrors(string Name, double Mae, double Rmse, double Mape, double Mase)
{
    public static ForecastErrors Of(string name, double[] actual, double[] forecast, IReadOnlyList<double> trainingSeries) => new(
        name,
        ForecastScores.MeanAbsoluteError(actual, forecast),
        ForecastScores.RootMeanSquaredError(actual, forecast),
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

    public string[] Row() => [Name, CommandOutput.Num(Mae), CommandOutput.Num(Rmse), Mape is double m && double.IsFinite(m) ? CommandOutput.Num(m, "0.00") + "%" : "n/a", CommandOutput.Num(Mase)];

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
        string m = CommandOutput.Num(model.Mae), p = CommandOutput.Num(persistence.Mae);
        if (model.Mae < persistence.Mae)
            return $"The model beats persistence: its test MAE ({m}) is {CommandOutput.Num(100 * (1 - model.Mae / persistence.Mae), "0.0")}% below that of repeating the last known value ({p}).";
        if (model.Mae > persistence.Mae)
            return $"The model does not beat persistence: its test MAE ({m}) is {(persistence.Mae == 0 ? "above" : CommandOutput.Num(100 * (model.Mae / persistence.Mae - 1), "0.0") + "% above")} that of repeating the last known value ({p}), so use the naive forecast or try a longer --lookback, more --epochs or other --features.";
        return $"The model and persistence tie: both have a test MAE of {m}.";
    }
}
