namespace Neurite.Cli.Tests.Commands;

public sealed class ForecastCommandTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void Forecast_scores_persistence_on_the_test_part_and_says_whether_the_model_beats_it()
    {
        var (data, values) = _kit.SeasonalSeries();
        string report = _kit.PathOf("report");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--lookback", "12", "--units", "16",
            "--epochs", "40", "--out", report, "--json");

        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        // 240 rows, test fraction 0.2: rows 192..239 (0-based) are the test targets; persistence repeats the row before.
        Assert.Equal(192, json.GetProperty("train_rows").GetInt32());
        Assert.Equal(48, json.GetProperty("test_forecasts").GetInt32());
        double persistenceMae = Enumerable.Range(192, 48).Average(t => Math.Abs(values[t] - values[t - 1]));
        Assert.Equal(persistenceMae, json.GetProperty("persistence").GetProperty("mae").GetDouble(), 9);
        Assert.Equal(12, json.GetProperty("season").GetInt32());
        double seasonalMae = Enumerable.Range(192, 48).Average(t => Math.Abs(values[t] - values[t - 12]));
        Assert.Equal(seasonalMae, json.GetProperty("seasonal_naive").GetProperty("mae").GetDouble(), 9);

        double modelMae = json.GetProperty("model_scores").GetProperty("mae").GetDouble();
        // A sine of period 12 with little noise moves about 1 unit a step, which persistence pays in full; 12 steps of history predict it.
        Assert.True(modelMae < persistenceMae, $"model MAE {modelMae}, persistence MAE {persistenceMae}");
        Assert.True(json.GetProperty("beats_persistence").GetBoolean());
        Assert.StartsWith("The model beats persistence", json.GetProperty("verdict").GetString());
        foreach (var file in new[] { "index.html", "history.png", "forecast.png", "predicted-vs-actual.png", "forecasts.csv" })
            Assert.True(File.Exists(Path.Combine(report, file)), file);
        Assert.Contains("The model beats persistence", File.ReadAllText(Path.Combine(report, "index.html")));
    }

    [Fact]
    public void An_untrained_model_is_reported_as_not_beating_persistence()
    {
        // Zero-noise random walk: persistence is the best forecast there is, and one epoch of a tiny LSTM is far from it.
        var rng = new System.Random(3);
        double level = 100;
        var lines = new List<string> { "value" };
        var values = new List<double>();
        for (int t = 0; t < 120; t++)
        {
            level += rng.NextDouble() < 0.5 ? -1 : 1;
            values.Add(level);
            lines.Add(level.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        string data = _kit.Write("walk.csv", string.Join("\n", lines) + "\n");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--lookback", "5", "--units", "2", "--epochs", "1", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        Assert.Equal(1.0, json.GetProperty("persistence").GetProperty("mae").GetDouble(), 12);
        Assert.False(json.GetProperty("beats_persistence").GetBoolean());
        Assert.StartsWith("The model does not beat persistence", json.GetProperty("verdict").GetString());
    }

    [Fact]
    public void Dates_in_another_format_order_the_rows_and_travel_with_the_saved_model()
    {
        // The series written with day/month/year dates, rows reversed: --date-format reads them and the rows go back in order.
        var (data, values) = _kit.SeasonalSeries(rows: 60);
        var lines = File.ReadAllLines(data);
        var rewritten = lines.Skip(1).Reverse().Select(line =>
        {
            var parts = line.Split(',');
            var day = DateTime.ParseExact(parts[0], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            return day.ToString("dd/MM/yyyy", System.Globalization.CultureInfo.InvariantCulture) + "," + parts[1];
        });
        string file = _kit.Write("european.csv", "day,value\n" + string.Join("\n", rewritten) + "\n");

        var refused = CommandTestKit.Run("forecast", file, "--column", "value", "--date", "day", "--epochs", "1", "--out", _kit.PathOf("r0"));
        Assert.Equal(2, refused.Code);
        Assert.Contains("--date-format", refused.Error);
        Assert.Contains("yyyy-MM-dd", refused.Error);

        var noDate = CommandTestKit.Run("forecast", file, "--column", "value", "--date-format", "dd/MM/yyyy", "--out", _kit.PathOf("r3"));
        Assert.Equal(2, noDate.Code);
        Assert.Contains("without --date", noDate.Error);

        var badFormat = CommandTestKit.Run("forecast", file, "--column", "value", "--date", "day", "--date-format", "HH:mm", "--out", _kit.PathOf("r1"));
        Assert.Equal(2, badFormat.Code);
        Assert.Contains("year, month and day", badFormat.Error);

        string model = _kit.PathOf("eu.keras");
        var trained = CommandTestKit.Run("forecast", file, "--column", "value", "--date", "day", "--date-format", "dd/MM/yyyy", "--lookback", "4",
            "--units", "4", "--epochs", "2", "--out", _kit.PathOf("r2"), "--save", model, "--json");
        Assert.True(trained.Code == 0, trained.Error);
        // In date order the test part is the last 12 days, so persistence is scored on the original order's values.
        double persistenceMae = Enumerable.Range(48, 12).Average(t => Math.Abs(values[t] - values[t - 1]));
        Assert.Equal(persistenceMae, CommandTestKit.Json(trained.Output).GetProperty("persistence").GetProperty("mae").GetDouble(), 9);

        var predicted = CommandTestKit.Run("predict", model, file);
        Assert.True(predicted.Code == 0, predicted.Error);
        var rows = predicted.Output.Trim().Split('\n');
        Assert.StartsWith("2021-01-04,1,", rows[1]);
        Assert.StartsWith("2021-03-01,1,", rows[^1]);
    }

    [Fact]
    public void A_stateful_forecaster_saves_and_predicts_one_forecast_per_origin()
    {
        var (data, _) = _kit.SeasonalSeries(rows: 120);
        string model = _kit.PathOf("lstm.keras");
        var trained = CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--lookback", "6", "--units", "8,4", "--stateful",
            "--batch-size", "2", "--epochs", "3", "--out", _kit.PathOf("r"), "--save", model, "--json");
        Assert.True(trained.Code == 0, trained.Error);
        Assert.True(CommandTestKit.Json(trained.Output).GetProperty("stateful").GetBoolean());

        var predicted = CommandTestKit.Run("predict", model, data);
        Assert.True(predicted.Code == 0, predicted.Error);
        var rows = predicted.Output.Trim().Split('\n');
        Assert.Equal("origin,step,value_forecast", rows[0].Trim());
        // 120 rows, lookback 6: origins at rows 6..120, the last one forecasting past the data.
        Assert.Equal(115, rows.Length - 1);
        Assert.StartsWith("2021-01-06,1,", rows[1]);
        Assert.StartsWith("2021-04-30,1,", rows[^1]);

        var evaluated = CommandTestKit.Run("evaluate", model, data, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Error);
        Assert.Equal(114, CommandTestKit.Json(evaluated.Output).GetProperty("forecasts_scored").GetInt32());
    }
}
