using System.Globalization;
using System.Text.Json.Nodes;

namespace Neurite.Cli.Tests.Commands;

/// <summary>
/// neurite forecast and the saved forecaster with a user's file: --missing and --delimiter, repeated dates in new
/// files, the staged report, and the model bound to its preprocessing file.
/// </summary>
public sealed class ForecastInputTests : IDisposable
{
    private static readonly string[] Quick = ["--ensemble", "1", "--epochs", "2", "--units", "4"];
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>120 dated rows of a seasonal series, the value of row <paramref name="tokenRow"/> (if any) replaced by <paramref name="token"/>.</summary>
    private string Series(string name, char delimiter = ',', int tokenRow = -1, string token = "?", int duplicateRow = -1)
    {
        var start = new DateTime(2021, 1, 1);
        var lines = Enumerable.Range(0, 120).Select(t =>
        {
            var date = start.AddDays(t == duplicateRow ? t - 1 : t).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string value = t == tokenRow ? token : (10 + 3 * Math.Sin(2 * Math.PI * t / 12) + 0.1 * Math.Cos(7.3 * t)).ToString("R", CultureInfo.InvariantCulture);
            return date + delimiter + value;
        });
        return _kit.Write(name, $"day{delimiter}value\n" + string.Join("\n", lines) + "\n");
    }

    private static string UsageError((int Code, string Output, string Error) run, string expected)
    {
        Assert.True(run.Code == CliApp.UsageError, $"exit code {run.Code}: {run.Error}");
        string line = run.Error.TrimEnd().Split('\n')[^1];
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Contains(expected, line);
        return line;
    }

    private static (string Output, string Error) Succeeds((int Code, string Output, string Error) run)
    {
        Assert.True(run.Code == 0, $"exit code {run.Code}: {run.Error}");
        return (run.Output, run.Error);
    }

    private string Train(string data, string model, string seed = "17", params string[] extra) =>
        Succeeds(CommandTestKit.Run(["forecast", data, "--column", "value", "--date", "day", .. Quick, "--seed", seed, "--out", _kit.PathOf("r-" + Path.GetFileName(model)), "--save", model, "--json", .. extra])).Output;

    [Fact]
    public void A_missing_token_is_named_then_read_as_missing_and_the_saved_model_reads_it_too()
    {
        // Row 30 (line 32) holds '?'.
        string data = Series("q.csv", tokenRow: 30);
        string report = _kit.PathOf("never");
        string error = UsageError(CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--out", report), "'?' on line 32");
        Assert.Contains("--missing '?'", error);
        Assert.False(Directory.Exists(report), "a refused run wrote its report");

        string model = _kit.PathOf("m.keras");
        var json = CommandTestKit.Json(Train(data, model, "17", "--missing", "?"));
        Assert.Equal(120, json.GetProperty("rows").GetInt32());
        Assert.Equal(1, json.GetProperty("dropped_incomplete_rows").GetInt32());
        var missing = JsonNode.Parse(File.ReadAllText(model + ".neurite.json"))!["missing"]!.AsArray().Select(m => m!.GetValue<string>());
        Assert.Equal(["?"], missing);

        // predict and evaluate read the value column as numbers, so '?' is an error unless the recipe's token applies.
        var (predictions, _) = Succeeds(CommandTestKit.Run("predict", model, data));
        Assert.StartsWith("origin,step,value_forecast,", predictions);
        Succeeds(CommandTestKit.Run("evaluate", model, data));
    }

    [Fact]
    public void A_semicolon_series_gets_a_delimiter_hint_and_reads_with_the_option()
    {
        string data = Series("semi.csv", ';');
        UsageError(CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--out", _kit.PathOf("never")), "pass --delimiter ';'");
        string model = _kit.PathOf("semi.keras");
        var json = CommandTestKit.Json(Train(data, model, "17", "--delimiter", ";"));
        Assert.Equal(120, json.GetProperty("rows").GetInt32());
        var (predictions, _) = Succeeds(CommandTestKit.Run("predict", model, data, "--delimiter", ";"));
        Assert.StartsWith("origin,step,value_forecast,", predictions);
    }

    [Fact]
    public void Predict_and_evaluate_refuse_a_series_with_a_repeated_date()
    {
        string model = _kit.PathOf("m.keras");
        Train(Series("s.csv"), model);
        // Row 50 (line 52) repeats row 49's date, 2021-02-19 (line 51).
        string repeated = Series("dup.csv", duplicateRow: 50);
        foreach (var command in new[] { "predict", "evaluate" })
            UsageError(CommandTestKit.Run(command, model, repeated), "has 2021-02-19 on lines 51 and 52");
    }

    [Fact]
    public void A_report_into_an_existing_folder_replaces_its_files_and_leaves_others_and_no_staging()
    {
        string report = _kit.PathOf("report");
        Directory.CreateDirectory(report);
        File.WriteAllText(Path.Combine(report, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(report, "forecasts.csv"), "old");
        Succeeds(CommandTestKit.Run(["forecast", Series("s.csv"), "--column", "value", "--date", "day", .. Quick, "--out", report]));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(report, "notes.txt")));
        Assert.StartsWith("origin,", File.ReadAllText(Path.Combine(report, "forecasts.csv")));
        Assert.True(File.Exists(Path.Combine(report, "index.html")), "no index.html");
        Assert.Empty(Directory.GetFileSystemEntries(report, ".neurite-report.*"));
        Assert.Empty(Directory.GetFileSystemEntries(_kit.Folder, "*.tmp*"));
    }

    [Fact]
    public void A_forecast_model_and_another_forecasts_preprocessing_are_refused_as_a_pair()
    {
        string data = Series("s.csv");
        string first = _kit.PathOf("first.keras"), second = _kit.PathOf("second.keras");
        Train(data, first, "1");
        Train(data, second, "2");
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(second));

        // The other network beside this preprocessing: what a save killed between its two renames leaves.
        string swapped = _kit.PathOf("swapped.keras");
        File.Copy(second, swapped);
        File.Copy(first + ".neurite.json", swapped + ".neurite.json");
        foreach (var command in new[] { "predict", "evaluate", "summary" })
        {
            string[] args = command == "summary" ? [command, swapped] : [command, swapped, data];
            UsageError(CommandTestKit.Run(args), "do not belong together");
        }
        Succeeds(CommandTestKit.Run("predict", first, data));
    }
}
