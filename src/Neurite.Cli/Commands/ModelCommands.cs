using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary><c>neurite summary</c>, <c>predict</c> and <c>evaluate</c>: a saved model and its preprocessing recipe applied to new rows.</summary>
internal static class ModelCommands
{
    public static int Summary(string modelPath, CommandOutput output)
    {
        var model = CommandChecks.LoadModel(modelPath, output);
        output.Text.Write(model.SummaryText());
        string sidecar = ModelRecipe.SidecarPath(modelPath);
        if (!File.Exists(sidecar))
        {
            output.Say($"No preprocessing file ({Path.GetFileName(sidecar)}) beside it: predict and evaluate need one, written by 'neurite classify --save' or 'neurite forecast --save'.");
            return CliApp.Success;
        }
        var recipe = ModelRecipe.Load(modelPath);
        if (recipe.Classify is { } c)
        {
            output.Say($"Classifier of '{c.Target}' into {c.Classes.Length} classes: {string.Join(", ", c.Classes)} (majority class in training: {c.MajorityClass}).");
            foreach (var f in c.Features)
                output.Say(f.Kind == FeatureRecipe.Numeric
                    ? $"  {f.Name}: numeric, standardised with mean {CommandOutput.Num(f.Mean)} and sd {CommandOutput.Num(f.Sd)}"
                    : $"  {f.Name}: text, one-hot over {f.Levels!.Length} levels ({string.Join(", ", f.Levels!.Take(10))}{(f.Levels!.Length > 10 ? ", ..." : "")})");
        }
        else if (recipe.Forecast is { } fc)
        {
            output.Say($"Forecaster of '{fc.Column}': {fc.Lookback} steps in, {fc.Horizon} step(s) ahead out{(fc.Stateful ? $", stateful with batch {fc.BatchSize}" : "")}{(fc.Date is null ? "" : $", rows ordered by '{fc.Date}'")}.");
            foreach (var f in fc.Features)
                output.Say($"  {f.Name}: standardised with mean {CommandOutput.Num(f.Mean)} and sd {CommandOutput.Num(f.Sd)}");
        }
        return CliApp.Success;
    }

    public static int Predict(string modelPath, string dataPath, string? outPath, CommandOutput output)
    {
        if (outPath is not null && (string.IsNullOrWhiteSpace(outPath) || Directory.Exists(outPath)))
            throw new UserInputException($"--out '{outPath}' is a folder or empty; predict writes one CSV file. Use e.g. --out predictions.csv.");
        var (model, recipe) = Load(modelPath, output);
        output.Say($"Reading {dataPath} ...");
        var table = DataFile.Read(dataPath, recipe.Forecast?.DateFormat);
        string csv = recipe.Classify is { } c ? PredictClasses(model, c, table, dataPath, output) : PredictSeries(model, recipe.Forecast!, table, dataPath, output);
        if (outPath is null)
        {
            output.Standard.Write(csv);
        }
        else
        {
            DataFile.WriteAtomically(outPath, csv);
            output.Say($"Predictions: {outPath}");
        }
        return CliApp.Success;
    }

    public static int Evaluate(string modelPath, string dataPath, CommandOutput output)
    {
        var (model, recipe) = Load(modelPath, output);
        output.Say($"Reading {dataPath} ...");
        var table = DataFile.Read(dataPath, recipe.Forecast?.DateFormat);
        var json = recipe.Classify is { } c ? EvaluateClasses(model, c, table, dataPath, output) : EvaluateSeries(model, recipe.Forecast!, table, dataPath, output);
        json["model"] = Path.GetFullPath(modelPath);
        json["data"] = dataPath;
        output.WriteScores(json);
        return CliApp.Success;
    }

    private static (Sequential Model, ModelRecipe Recipe) Load(string modelPath, CommandOutput output)
    {
        var model = CommandChecks.LoadModel(modelPath, output);
        var recipe = ModelRecipe.Load(modelPath);
        int[] expectedIn = recipe.Classify is { } c ? [c.InputWidth] : [recipe.Forecast!.Lookback, recipe.Forecast.Features.Length];
        int expectedOut = recipe.Classify is { } c2 ? c2.Classes.Length : recipe.Forecast!.Horizon;
        var input = model.Inputs[0].Shape;
        var outputShape = model.Outputs[0].Shape;
        if (!input.SequenceEqual(expectedIn) || outputShape[^1] != expectedOut)
            throw new UserInputException($"The model '{modelPath}' takes inputs ({string.Join(", ", input)}) and gives {outputShape[^1]} outputs, but its preprocessing file describes inputs ({string.Join(", ", expectedIn)}) and {expectedOut} outputs; the two files do not belong together. Save the model again with --save, which writes both.");
        return (model, recipe);
    }

    private static string PredictClasses(Sequential model, ClassifyRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (x, rows, skipped) = recipe.Encode(table, file);
        var probabilities = rows.Length == 0 ? null : model.Predict(x);
        var csv = new StringBuilder("line,predicted");
        foreach (var c in recipe.Classes) csv.Append(',').Append(DataFile.CsvField("p_" + c));
        csv.Append('\n');
        var byRow = new Dictionary<int, int>();
        for (int r = 0; r < rows.Length; r++) byRow[rows[r]] = r;
        int k = recipe.Classes.Length;
        for (int i = 0; i < table.RowCount; i++)
        {
            csv.Append(i + 2).Append(',');
            if (!byRow.TryGetValue(i, out int r))
            {
                csv.Append(',', k).Append('\n');
                continue;
            }
            var p = probabilities!.Span.Slice(r * k, k);
            int best = 0;
            for (int c = 1; c < k; c++) if (p[c] > p[best]) best = c;
            csv.Append(DataFile.CsvField(recipe.Classes[best]));
            for (int c = 0; c < k; c++) csv.Append(',').Append(p[c].ToString("0.######", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }
        output.Say($"{rows.Length} rows classified" + (skipped.Length > 0 ? $", {skipped.Length} with a missing feature left without a class (lines {string.Join(", ", skipped.Take(5).Select(s => s + 2))}{(skipped.Length > 5 ? ", ..." : "")})." : "."));
        return csv.ToString();
    }

    private static JsonObject EvaluateClasses(Sequential model, ClassifyRecipe recipe, Table table, string file, CommandOutput output)
    {
        var targetColumn = DataFile.RequireColumn(table, recipe.Target, "The model's target column", file);
        var (x, rows, skipped) = recipe.Encode(table, file);
        var keep = Enumerable.Range(0, rows.Length).Where(r => !targetColumn.IsMissing(rows[r])).ToArray();
        if (keep.Length == 0)
            throw new UserInputException($"{file} has no row with both the target '{recipe.Target}' and every feature present, so there is nothing to score. Give rows with the target filled in.");
        var actual = keep.Select(r =>
        {
            string value = targetColumn.Format(rows[r])!;
            int c = Array.IndexOf(recipe.Classes, value);
            return c >= 0 ? c : throw new UserInputException($"The target '{recipe.Target}' is '{value}' on line {rows[r] + 2} of {file}, a class the model does not know; it knows [{string.Join(", ", recipe.Classes)}]. Evaluate on rows of those classes only.");
        }).ToArray();
        var predictedAll = model.PredictClasses(x);
        var predicted = keep.Select(r => predictedAll[r]).ToArray();
        var scores = new ClassScores(actual, predicted, recipe.Classes, Array.IndexOf(recipe.Classes, recipe.MajorityClass));
        int unscored = table.RowCount - keep.Length;
        output.Say($"{keep.Length} rows scored{(unscored > 0 ? $" ({unscored} with a missing target or feature left out)" : "")}. Actual class (rows) against predicted (columns):");
        output.Say(scores.Confusion.Format().TrimEnd());
        output.Say(scores.PerClassText());
        output.Say(scores.Verdict());
        var json = new JsonObject { ["command"] = "evaluate", ["task"] = "classify", ["rows_scored"] = keep.Length, ["rows_left_out"] = unscored };
        foreach (var (k, v) in scores.ToJson().ToArray()) json[k] = v?.DeepClone();
        return json;
    }

    /// <summary>The series' rows in time order, scaled as in training; rows with a missing value are left out.</summary>
    private static (double[,] Scaled, double[] Original, string[] Labels) SeriesOf(ForecastRecipe recipe, Table table, string file)
    {
        var columns = recipe.Features.Select(f =>
        {
            if (!table.Contains(f.Name))
                throw new UserInputException($"{file} does not match the model: it has no column '{f.Name}', one of the model's inputs [{string.Join(", ", recipe.Features.Select(x => x.Name))}]. Give a CSV with the columns the model was trained on.");
            var numeric = DataFile.RequireNumeric(table, f.Name, "an input of the model", "The model was trained on numbers in this column; give a CSV with numbers there.", file);
            DataFile.RequireFinite(numeric, file);
            return numeric;
        }).ToArray();
        var order = Enumerable.Range(0, table.RowCount).ToArray();
        DateColumn? dates = null;
        if (recipe.Date is not null)
        {
            if (!table.Contains(recipe.Date))
                throw new UserInputException($"{file} does not match the model: it has no date column '{recipe.Date}', which orders the rows. Give a CSV with that column.");
            string format = recipe.DateFormat ?? "yyyy-MM-dd";
            dates = table[recipe.Date] as DateColumn ?? throw new UserInputException($"Column '{recipe.Date}' of {file} does not hold dates written as {format}, as the model's training data did. Write the dates as {format}.");
            order = order.OrderBy(i => dates[i] ?? DateTime.MaxValue).ToArray();
        }
        var rows = order.Where(i => columns.All(c => !c.IsMissing(i)) && (dates is null || !dates.IsMissing(i))).ToArray();
        var scaled = new double[rows.Length, columns.Length];
        for (int r = 0; r < rows.Length; r++)
            for (int j = 0; j < columns.Length; j++)
                scaled[r, j] = (columns[j][rows[r]] - recipe.Features[j].Mean) / recipe.Features[j].Sd;
        var labels = rows.Select(i => dates is null ? (i + 2).ToString(CultureInfo.InvariantCulture) : dates.Format(i)!).ToArray();
        return (scaled, rows.Select(i => columns[0][i]).ToArray(), labels);
    }

    /// <summary>
    /// Predicts with every sample starting from zero state: a stateful model is copied to a batch of all samples
    /// (sharing its weights), since new data has no stream of states to continue.
    /// </summary>
    private static double[] PredictWindows(Sequential model, ForecastRecipe recipe, Tensor x)
    {
        var runner = model.IsStateful ? model.WithBatchSize(x.Dim(0)) : model;
        runner.ResetStates();
        return runner.Predict(x).ToArray().Select(v => recipe.Unscale(v)).ToArray();
    }

    private static string PredictSeries(Sequential model, ForecastRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (scaled, _, labels) = SeriesOf(recipe, table, file);
        int n = labels.Length, f = recipe.Features.Length, lookback = recipe.Lookback;
        if (n < lookback)
            throw new UserInputException($"{file} has {n} complete rows, fewer than the model's lookback of {lookback} steps. Give at least {lookback} rows of history.");
        // One forecast from every origin, the last one reaching past the end of the data.
        int count = n - lookback + 1;
        var data = new float[count * lookback * f];
        for (int s = 0; s < count; s++)
            for (int t = 0; t < lookback; t++)
                for (int j = 0; j < f; j++)
                    data[(s * lookback + t) * f + j] = (float)scaled[s + t, j];
        var forecast = PredictWindows(model, recipe, new Tensor(data, count, lookback, f));
        var csv = new StringBuilder("origin,step,").Append(DataFile.CsvField(recipe.Column + "_forecast")).Append('\n');
        for (int s = 0; s < count; s++)
            for (int h = 0; h < recipe.Horizon; h++)
                csv.Append(DataFile.CsvField(labels[s + lookback - 1])).Append(',').Append(h + 1).Append(',')
                   .Append(forecast[s * recipe.Horizon + h].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        output.Say($"{count} forecasts of {recipe.Horizon} step(s), one from every origin ({(recipe.Date is null ? "line" : "date")} of the last input step); the last reaches past the end of the data.");
        return csv.ToString();
    }

    private static JsonObject EvaluateSeries(Sequential model, ForecastRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (scaled, original, _) = SeriesOf(recipe, table, file);
        int n = original.Length;
        if (n < recipe.Lookback + recipe.Horizon + 1)
            throw new UserInputException($"{file} has {n} complete rows, too few to score the model: one forecast needs {recipe.Lookback} steps of history and {recipe.Horizon} to compare with, and MASE one change more. Give at least {recipe.Lookback + recipe.Horizon + 1} rows.");
        var windows = new TimeSeriesWindows(recipe.Lookback, recipe.Horizon).Build(scaled, original);
        var predicted = PredictWindows(model, recipe, windows.X);
        var actual = ForecastScores.Flatten(windows.Actual);
        var persistence = ForecastScores.Flatten(ForecastBaselines.Persistence(windows));
        // MASE is scaled by this data's own one-step changes: there is no training part here.
        var rows = new List<ForecastErrors> { ForecastErrors.Of("model", actual, predicted, original), ForecastErrors.Of("persistence", actual, persistence, original) };
        ForecastErrors? seasonal = null;
        if (windows.Origin(0) + 1 >= recipe.Season)
        {
            seasonal = ForecastErrors.Of($"seasonal naive (season {recipe.Season})", actual, ForecastScores.Flatten(ForecastBaselines.SeasonalNaive(windows, recipe.Season)), original);
            rows.Add(seasonal);
        }
        string verdict = ForecastErrors.Verdict(rows[0], rows[1]);
        output.Say($"{actual.Length} forecasts scored in the units of '{recipe.Column}' (MASE scaled by this data's one-step changes):");
        output.Say(ForecastErrors.Text(rows));
        output.Say(verdict);
        return new JsonObject
        {
            ["command"] = "evaluate",
            ["task"] = "forecast",
            ["forecasts_scored"] = actual.Length,
            ["model_scores"] = rows[0].ToJson(),
            ["persistence"] = rows[1].ToJson(),
            ["seasonal_naive"] = seasonal?.ToJson(),
            ["beats_persistence"] = rows[0].Mae < rows[1].Mae,
            ["verdict"] = verdict,
        };
    }
}
