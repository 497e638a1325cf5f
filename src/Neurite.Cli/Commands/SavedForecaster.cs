using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.Data;
using Neurite.Forecasting;

namespace Neurite.Cli.Commands;

/// <summary>
/// <c>predict</c> and <c>evaluate</c> for a model saved by <c>neurite forecast</c>: the same forecaster, rebuilt
/// from the sidecar and the network, so that it repeats the forecasts <c>forecast</c> printed.
/// </summary>
internal static class SavedForecaster
{
    public static string Predict(Sequential network, ForecastRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (forecaster, series, _) = Prepare(network, recipe, table, file);
        var state = forecaster.State;
        int n = series.Values.Length, first = state.History - 1;
        if (n < state.History)
            throw new UserInputException($"{file} has {n} complete rows, fewer than the {state.History} values of history the forecaster reads. Give at least {state.History} rows.");
        // One forecast from every origin, the last one reaching past the end of the data.
        var set = forecaster.Forecast(series.Values, first, n - 1, series.Features);
        string name = recipe.Column + "_forecast";
        var csv = new StringBuilder("origin,step,").Append(DataFile.CsvField(name)).Append(",lower80,upper80,lower95,upper95\n");
        for (int i = 0; i < set.Count; i++)
            for (int k = 0; k < state.Horizon; k++)
                csv.Append(DataFile.CsvField(series.Labels[first + i])).Append(',').Append(k + 1).Append(',').Append(R(set.Forecast[i, k])).Append(',')
                   .Append(R(set.Lower80[i, k])).Append(',').Append(R(set.Upper80[i, k])).Append(',').Append(R(set.Lower95[i, k])).Append(',').Append(R(set.Upper95[i, k])).Append('\n');
        output.Say($"{set.Count} forecasts of {state.Horizon} step(s), one from every origin ({(recipe.Date is null ? "line" : "date")} of the last value known) from row {first + 1}; the last reaches past the end of the data.");
        return csv.ToString();
    }

    public static JsonObject Evaluate(Sequential network, ForecastRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (forecaster, series, continues) = Prepare(network, recipe, table, file);
        var state = forecaster.State;
        int n = series.Values.Length, h = state.Horizon;
        int first = continues ? recipe.TrainingRows - 1 : state.History - 1;
        if (n - 1 - h < first)
            throw new UserInputException(continues
                ? $"{file} holds the {recipe.TrainingRows} rows the model was trained on and {n - recipe.TrainingRows} more, too few to score {h} step(s) ahead. Give the series with at least {h} rows after the training rows."
                : $"{file} has {n} complete rows, too few to score the model: one forecast needs {state.History} values of history and {h} to compare with. Give at least {state.History + h} rows.");
        var set = forecaster.Forecast(series.Values, first, n - 1 - h, series.Features);
        var scores = ForecastScoreSet.Of(state, set, series.Values, first + 1);
        var rows = new[] { scores.Model, scores.Persistence, scores.Seasonal }.OfType<ForecastErrors>().ToList();
        string scored = continues ? $"the {n - recipe.TrainingRows} rows after the {recipe.TrainingRows} training rows" : $"every row from row {first + 2}";
        output.Say($"{scores.Actual.Length} forecasts of {scored} scored in the units of '{recipe.Column}' (MASE scaled by the one-step changes before them):");
        output.Say(ForecastErrors.Text(rows));
        output.Say($"Intervals: {CommandOutput.Percent(scores.Coverage80)} of the values lie in the 80% intervals, {CommandOutput.Percent(scores.Coverage95)} in the 95% ones.");
        output.Say(scores.Verdict);
        return new JsonObject
        {
            ["command"] = "evaluate",
            ["task"] = "forecast",
            ["forecasts_scored"] = scores.Actual.Length,
            ["scored_from_row"] = first + 2,
            ["continues_training_rows"] = continues,
            ["model_scores"] = scores.Model.ToJson(),
            ["persistence"] = scores.Persistence.ToJson(),
            ["seasonal_naive"] = scores.Seasonal?.ToJson(),
            ["coverage_80"] = scores.Coverage80,
            ["coverage_95"] = scores.Coverage95,
            ["beats_persistence"] = scores.Model.Mae < scores.Persistence.Mae,
            ["verdict"] = scores.Verdict,
        };
    }

    /// <summary>
    /// The forecaster and the file's series. A forecast that includes exponential smoothing carries its state from
    /// the first training row, so the series must start with the training rows, or its forecasts would differ from
    /// the ones <c>forecast</c> printed: such a file is refused with the reason.
    /// </summary>
    private static (Forecaster Forecaster, ForecastSeries Series, bool ContinuesTraining) Prepare(Sequential network, ForecastRecipe recipe, Table table, string file)
    {
        Forecaster forecaster;
        try
        {
            forecaster = Forecaster.FromState(recipe.Forecaster!, recipe.NetworkBase, network);
        }
        catch (NeuriteException e)
        {
            throw new UserInputException($"The model and its preprocessing file do not belong together: {ModelRecipe.OneLine(e.Message)} Save the model again with 'neurite forecast --save'.");
        }
        var series = ForecastSeries.Read(table, recipe.Column, recipe.Date, recipe.DateFormat ?? "yyyy-MM-dd", file, "The model's column", recipe.FeatureNames);
        bool continues = series.Values.Length >= recipe.TrainingRows && ForecastSeries.Hash(series.Values, recipe.TrainingRows) == recipe.TrainingHash;
        if (!continues && recipe.Forecaster!.Blend.Weights.ContainsKey(ForecastComponent.Ets))
            throw new UserInputException($"The model's forecast includes exponential smoothing, whose state runs from the first of the {recipe.TrainingRows} rows it was trained on, but {file} does not start with those rows, so its forecasts would not be the ones 'neurite forecast' printed. Give the whole series from its first row (the training rows, then any new ones).");
        return (forecaster, series, continues);
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
