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
        string sidecar = ModelRecipe.SidecarPath(modelPath);
        if (!File.Exists(sidecar))
        {
            output.Text.Write(CommandChecks.LoadModel(modelPath, output).SummaryText());
            output.Say($"No preprocessing file ({Path.GetFileName(sidecar)}) beside it: predict and evaluate need one, written by 'neurite classify --save' or 'neurite forecast --save'.");
            return CliApp.Success;
        }
        var (model, recipe) = LoadPair(modelPath, output);
        output.Text.Write(model.SummaryText());
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
            output.Say($"Forecaster of '{fc.Column}', {fc.Horizon} step(s) ahead{(fc.Date is null ? "" : $", rows ordered by '{fc.Date}'")}, trained on {fc.TrainingRows} rows (season {fc.Season}).");
            output.Say($"  The forecast: {fc.Forecaster!.Describe()}.");
            if (fc.FeatureNames.Length > 0) output.Say($"  The networks also read: {string.Join(", ", fc.FeatureNames)}.");
        }
        return CliApp.Success;
    }

    public static int Predict(string modelPath, string dataPath, string? outPath, char delimiter, string[] missing, CommandOutput output)
    {
        if (outPath is not null) OutputFile.CheckWritableFile(outPath, "--out", "predictions.csv");
        var (model, recipe) = Load(modelPath, output);
        output.Say($"Reading {dataPath} ...");
        var table = DataFile.Read(dataPath, ReadSettingsOf(recipe, delimiter, missing));
        string csv = recipe.Classify is { } c ? PredictClasses(model, c, table, dataPath, output) : SavedForecaster.Predict(model, recipe.Forecast!, table, dataPath, output);
        if (outPath is null)
        {
            output.Standard.Write(csv);
        }
        else
        {
            OutputFile.WriteText(outPath, csv, "--out");
            output.Say($"Predictions: {outPath}");
        }
        return CliApp.Success;
    }

    public static int Evaluate(string modelPath, string dataPath, char delimiter, string[] missing, CommandOutput output)
    {
        var (model, recipe) = Load(modelPath, output);
        output.Say($"Reading {dataPath} ...");
        var table = DataFile.Read(dataPath, ReadSettingsOf(recipe, delimiter, missing));
        var json = recipe.Classify is { } c ? EvaluateClasses(model, c, table, dataPath, output) : SavedForecaster.Evaluate(model, recipe.Forecast!, table, dataPath, output);
        json["model"] = Path.GetFullPath(modelPath);
        json["data"] = dataPath;
        output.WriteScores(json);
        return CliApp.Success;
    }

    private static (Sequential Model, ModelRecipe Recipe) Load(string modelPath, CommandOutput output)
    {
        var (model, recipe) = LoadPair(modelPath, output);
        int[] expectedIn = recipe.Classify is { } c ? [c.InputWidth] : [recipe.Forecast!.Forecaster!.NetworkInputs];
        int expectedOut = recipe.Classify is { } c2 ? c2.Classes.Length : recipe.Forecast!.Forecaster!.NetworkMembers * recipe.Forecast.Horizon;
        var input = model.Inputs[0].Shape;
        var outputShape = model.Outputs[0].Shape;
        if (!input.SequenceEqual(expectedIn) || outputShape[^1] != expectedOut)
            throw new UserInputException($"The model '{modelPath}' takes inputs ({string.Join(", ", input)}) and gives {outputShape[^1]} outputs, but its preprocessing file describes inputs ({string.Join(", ", expectedIn)}) and {expectedOut} outputs; the two files do not belong together. Save the model again with --save, which writes both.");
        return (model, recipe);
    }

    /// <summary>
    /// How to read new rows for a saved model: with the column kinds learned in training (a text column of "01", "02"
    /// stays text; a stray non-number in a numeric column is an error naming its line, not a new kind) and the
    /// training's missing-value tokens, besides those given now.
    /// </summary>
    private static DataFile.ReadSettings ReadSettingsOf(ModelRecipe recipe, char delimiter, string[] missing)
    {
        var kinds = recipe.Classify?.ColumnKinds() ?? new[] { recipe.Forecast!.Column }.Concat(recipe.Forecast.FeatureNames).Distinct().ToDictionary(name => name, _ => ColumnKind.Numeric, StringComparer.Ordinal);
        if (recipe.Forecast?.Date is { } date) kinds[date] = ColumnKind.Date;
        return new DataFile.ReadSettings
        {
            Delimiter = delimiter,
            Missing = [.. recipe.Missing ?? [], .. missing],
            DateFormat = recipe.Forecast?.DateFormat,
            Kinds = kinds,
        };
    }

    /// <summary>
    /// The model and its recipe, refused unless the recipe was saved with these very model bytes. The file is
    /// fingerprinted before and after loading, so a save that replaces it meanwhile is noticed, not half-used.
    /// </summary>
    private static (Sequential Model, ModelRecipe Recipe) LoadPair(string modelPath, CommandOutput output)
    {
        string before = CommandChecks.ModelFingerprint(modelPath);
        var model = CommandChecks.LoadModel(modelPath, output);
        var recipe = ModelRecipe.Load(modelPath);
        string after = CommandChecks.ModelFingerprint(modelPath);
        if (before != after)
            throw new UserInputException($"The model file '{modelPath}' changed while it was being read (another process saved over it). Run the command again.");
        recipe.RequireSavedWith(modelPath, after);
        return (model, recipe);
    }

    private static string PredictClasses(Sequential model, ClassifyRecipe recipe, Table table, string file, CommandOutput output)
    {
        var (x, rows, skipped, unseen) = recipe.Encode(table, file);
        if (unseen.Describe(file) is { } note) output.Say(note);
        var probabilities = rows.Length == 0 ? null : model.Predict(x, verbose: 0);
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
        var (x, rows, skipped, unseen) = recipe.Encode(table, file);
        if (unseen.Describe(file) is { } note) output.Say(note);
        var keep = Enumerable.Range(0, rows.Length).Where(r => !targetColumn.IsMissing(rows[r])).ToArray();
        if (keep.Length == 0)
            throw new UserInputException($"{file} has no row with both the target '{recipe.Target}' and every feature present, so there is nothing to score. Give rows with the target filled in.");
        var actual = keep.Select(r =>
        {
            string value = targetColumn.Format(rows[r])!;
            int c = Array.IndexOf(recipe.Classes, value);
            return c >= 0 ? c : throw new UserInputException($"The target '{recipe.Target}' is '{value}' on line {rows[r] + 2} of {file}, a class the model does not know; it knows {recipe.Classes.Length} [{DataFile.ShortList(recipe.Classes)}]. Evaluate on rows of those classes only.");
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
}
