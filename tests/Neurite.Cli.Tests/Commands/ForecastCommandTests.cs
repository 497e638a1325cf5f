using System.Globalization;
using System.Text;
using System.Text.Json;

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
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--ensemble", "3", "--epochs", "60", "--out", report, "--json");

        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        // 240 rows, test fraction 0.2: rows 192..239 (0-based) are the test targets; persistence repeats the row before.
        Assert.Equal(192, json.GetProperty("train_rows").GetInt32());
        Assert.Equal(48, json.GetProperty("test_forecasts").GetInt32());
        double persistenceMae = Enumerable.Range(192, 48).Average(t => Math.Abs(values[t] - values[t - 1]));
        Assert.Equal(persistenceMae, json.GetProperty("persistence").GetProperty("mae").GetDouble(), 9);
        Assert.Equal(12, json.GetProperty("season").GetInt32());
        Assert.True(json.GetProperty("season_detected").GetBoolean());
        double seasonalMae = Enumerable.Range(192, 48).Average(t => Math.Abs(values[t] - values[t - 12]));
        Assert.Equal(seasonalMae, json.GetProperty("seasonal_naive").GetProperty("mae").GetDouble(), 9);

        double modelMae = json.GetProperty("model_scores").GetProperty("mae").GetDouble();
        // A sine of period 12 with little noise moves about 1 unit a step, which persistence pays in full.
        Assert.True(modelMae < persistenceMae, $"model MAE {modelMae}, persistence MAE {persistenceMae}");
        Assert.True(json.GetProperty("beats_persistence").GetBoolean());
        Assert.StartsWith("The model beats persistence", json.GetProperty("verdict").GetString());
        Assert.Contains("Best on the test part of all", json.GetProperty("verdict").GetString());
        // What the forecast is made of: weights summing to 1 over named parts, and the validation choice behind them.
        var forecast = json.GetProperty("forecast");
        Assert.Equal(1.0, forecast.GetProperty("weights").EnumerateObject().Sum(p => p.Value.GetDouble()), 12);
        var bestThree = forecast.GetProperty("candidates").EnumerateArray().Take(3).SelectMany(c => c.GetProperty("name").GetString()!.Split('+')).ToHashSet();
        Assert.True(bestThree.SetEquals(forecast.GetProperty("weights").EnumerateObject().Select(p => p.Name)), string.Join(",", bestThree));

        // forecasts.csv: the coverage printed is the share of test values inside the intervals written there.
        var rows = File.ReadAllLines(Path.Combine(report, "forecasts.csv"));
        Assert.StartsWith("origin,target,step,value,forecast,lower80,upper80,lower95,upper95,persistence,seasonal_naive,ets,linear,network", rows[0]);
        var cells = rows.Skip(1).Select(r => r.Split(',').Skip(3).Take(6).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Equal(48, cells.Count);
        Assert.Equal(cells.Count(c => c[0] >= c[2] && c[0] <= c[3]) / 48.0, json.GetProperty("coverage_80").GetDouble(), 12);
        Assert.Equal(cells.Count(c => c[0] >= c[4] && c[0] <= c[5]) / 48.0, json.GetProperty("coverage_95").GetDouble(), 12);
        Assert.Equal(modelMae, cells.Average(c => Math.Abs(c[0] - c[1])), 9);
        foreach (var file in new[] { "index.html", "forecast.png", "predicted-vs-actual.png", "forecasts.csv" })
            Assert.True(File.Exists(Path.Combine(report, file)), file);
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("The model beats persistence", html);
        Assert.Contains("80% intervals", html);
    }

    [Fact]
    public void On_a_random_walk_the_forecast_stays_within_three_percent_of_persistence()
    {
        // Zero-noise ±1 random walk: persistence is the best forecast there is; the forecaster must not do much worse.
        var rng = new System.Random(3);
        double level = 100;
        var lines = new List<string> { "value" };
        for (int t = 0; t < 300; t++)
        {
            level += rng.NextDouble() < 0.5 ? -1 : 1;
            lines.Add(level.ToString(CultureInfo.InvariantCulture));
        }
        string data = _kit.Write("walk.csv", string.Join("\n", lines) + "\n");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--ensemble", "3", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        Assert.Equal(1.0, json.GetProperty("persistence").GetProperty("mae").GetDouble(), 12);
        double mae = json.GetProperty("model_scores").GetProperty("mae").GetDouble();
        Assert.True(mae <= 1.03, $"model MAE {mae} against persistence's 1");
        Assert.Equal(mae < 1, json.GetProperty("beats_persistence").GetBoolean());
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
            var day = DateTime.ParseExact(parts[0], "yyyy-MM-dd", CultureInfo.InvariantCulture);
            return day.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture) + "," + parts[1];
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
            "--units", "4", "--ensemble", "2", "--epochs", "5", "--out", _kit.PathOf("r2"), "--save", model, "--json");
        Assert.True(trained.Code == 0, trained.Error);
        // In date order the test part is the last 12 days, so persistence is scored on the original order's values.
        double persistenceMae = Enumerable.Range(48, 12).Average(t => Math.Abs(values[t] - values[t - 1]));
        Assert.Equal(persistenceMae, CommandTestKit.Json(trained.Output).GetProperty("persistence").GetProperty("mae").GetDouble(), 9);

        var predicted = CommandTestKit.Run("predict", model, file);
        Assert.True(predicted.Code == 0, predicted.Error);
        var rows = predicted.Output.Trim().Split('\n');
        Assert.Equal("origin,step,value_forecast,lower80,upper80,lower95,upper95", rows[0].Trim());
        // The first origin is the first date with the forecaster's history behind it; the last is the last date.
        int history = Sidecar(model).GetProperty("forecaster").GetProperty("history").GetInt32();
        Assert.StartsWith(new DateTime(2021, 1, 1).AddDays(history - 1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ",1,", rows[1]);
        Assert.StartsWith("2021-03-01,1,", rows[^1]);
        Assert.Equal(60 - history + 1, rows.Length - 1);

        var summary = CommandTestKit.Run("summary", model);
        Assert.True(summary.Code == 0, summary.Error);
        Assert.Contains("Forecaster of 'value', 1 step(s) ahead, rows ordered by 'day', trained on 48 rows", summary.Output);
        Assert.Contains("The forecast: ", summary.Output);
    }

    [Fact]
    public void Predict_and_evaluate_repeat_what_forecast_printed_and_refuse_a_series_that_does_not_start_with_the_training_rows()
    {
        // Trend times season plus noise: exponential smoothing (whose state runs from the first row) takes part in the forecast.
        var rng = new System.Random(12);
        var csv = new StringBuilder("value\n");
        var values = new double[200];
        for (int t = 0; t < values.Length; t++)
        {
            values[t] = Math.Round((100 + t) * (1 + 0.2 * Math.Sin(2 * Math.PI * t / 12)) + 4 * (rng.NextDouble() - 0.5), 3);
            csv.Append(values[t].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        string data = _kit.Write("trend-season.csv", csv.ToString());
        string model = _kit.PathOf("m.keras"), report = _kit.PathOf("r");
        var trained = CommandTestKit.Run("forecast", data, "--column", "value", "--ensemble", "3", "--epochs", "60", "--out", report, "--save", model, "--json");
        Assert.True(trained.Code == 0, trained.Error);
        var printed = CommandTestKit.Json(trained.Output);
        Assert.True(Sidecar(model).GetProperty("forecaster").GetProperty("blend").GetProperty("weights").TryGetProperty("ets", out _),
            "the premise of this test: exponential smoothing is part of the chosen forecast");

        var evaluated = CommandTestKit.Run("evaluate", model, data, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Error);
        var scores = CommandTestKit.Json(evaluated.Output);
        Assert.True(scores.GetProperty("continues_training_rows").GetBoolean());
        Assert.Equal(printed.GetProperty("test_forecasts").GetInt32(), scores.GetProperty("forecasts_scored").GetInt32());
        foreach (var key in new[] { "model_scores", "persistence", "seasonal_naive" })
            Assert.Equal(printed.GetProperty(key).GetProperty("mae").GetDouble(), scores.GetProperty(key).GetProperty("mae").GetDouble());
        Assert.Equal(printed.GetProperty("coverage_80").GetDouble(), scores.GetProperty("coverage_80").GetDouble());

        // predict repeats every test forecast in forecasts.csv, to the last digit.
        var predicted = CommandTestKit.Run("predict", model, data);
        Assert.True(predicted.Code == 0, predicted.Error);
        var byOrigin = predicted.Output.Trim().Split('\n').Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0], c => c[2]);
        foreach (var line in File.ReadAllLines(Path.Combine(report, "forecasts.csv")).Skip(1))
        {
            var c = line.Split(',');
            Assert.Equal(c[4], byOrigin[c[0]]);
        }

        // The last 100 rows alone: the smoothing state would start in the wrong place, so both refuse, saying why.
        string tail = _kit.Write("tail.csv", "value\n" + string.Join("\n", values[100..].Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "\n");
        foreach (var command in new[] { "evaluate", "predict" })
        {
            var refused = CommandTestKit.Run(command, model, tail);
            Assert.Equal(2, refused.Code);
            Assert.Contains("does not start with those rows", refused.Error);
            Assert.Contains("Give the whole series from its first row", refused.Error);
        }
    }

    [Fact]
    public void A_horizon_of_three_is_scored_by_step_and_predicted_three_steps_from_every_origin()
    {
        var (data, _) = _kit.SeasonalSeries(rows: 120);
        string model = _kit.PathOf("h3.keras");
        var trained = CommandTestKit.Run("forecast", data, "--column", "value", "--date", "day", "--horizon", "3", "--ensemble", "2", "--epochs", "30",
            "--out", _kit.PathOf("r"), "--save", model, "--json");
        Assert.True(trained.Code == 0, trained.Error);
        var json = CommandTestKit.Json(trained.Output);
        // 120 rows: 96 training, 24 test; origins 95..116 give 22 forecasts of 3 steps.
        Assert.Equal(66, json.GetProperty("test_forecasts").GetInt32());
        var steps = json.GetProperty("mae_by_step").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(3, steps.Length);
        Assert.Equal(json.GetProperty("model_scores").GetProperty("mae").GetDouble(), steps.Average(), 9);

        var predicted = CommandTestKit.Run("predict", model, data);
        Assert.True(predicted.Code == 0, predicted.Error);
        var rows = predicted.Output.Trim().Split('\n').Skip(1).ToArray();
        Assert.Equal(0, rows.Length % 3);
        Assert.Equal(["1", "2", "3"], rows[^3..].Select(r => r.Split(',')[1]));
        Assert.All(rows[^3..], r => Assert.StartsWith("2021-04-30,", r));
    }

    [Theory]
    [InlineData(1e200)]
    [InlineData(1e-310)]
    public void A_series_of_extreme_magnitude_is_forecast_and_scored(double magnitude)
    {
        var (_, values) = _kit.SeasonalSeries(rows: 120);
        var scaled = values.Select(v => v * magnitude).ToArray();
        string data = _kit.Write("extreme.csv", "value\n" + string.Join("\n", scaled.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "\n");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--ensemble", "2", "--epochs", "20", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        double persistence = Enumerable.Range(96, 24).Average(t => Math.Abs(scaled[t] - scaled[t - 1]));
        Assert.Equal(1, json.GetProperty("persistence").GetProperty("mae").GetDouble() / persistence, 9);
        double model = json.GetProperty("model_scores").GetProperty("mae").GetDouble();
        Assert.True(double.IsFinite(model) && model < persistence, $"model {model}, persistence {persistence}");
        Assert.True(double.IsFinite(json.GetProperty("model_scores").GetProperty("rmse").GetDouble()));
        Assert.DoesNotContain("n/a", json.GetProperty("verdict").GetString());
        Assert.StartsWith("The model beats persistence", json.GetProperty("verdict").GetString());
    }

    [Fact]
    public void A_value_beyond_1e307_is_refused_naming_its_line()
    {
        string data = _kit.Write("huge.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 60).Select(i => i == 7 ? "1.5e308" : "1e307")) + "\n");
        var (code, _, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--out", _kit.PathOf("r"));
        Assert.Equal(2, code);
        Assert.Contains("1.5E+308 on line 9", error);
        Assert.Contains("Rescale the column", error);
    }

    [Fact]
    public void A_feature_that_leads_the_series_is_read_by_the_networks_and_by_predict()
    {
        // y follows yesterday's x, a random walk of its own: y's own history cannot foresee the step, x's can.
        var rng = new System.Random(21);
        var x = new double[300];
        for (int t = 1; t < x.Length; t++) x[t] = x[t - 1] + (rng.NextDouble() - 0.5);
        var csv = new StringBuilder("x,y\n");
        for (int t = 0; t < x.Length; t++)
            csv.Append(x[t].ToString("R", CultureInfo.InvariantCulture)).Append(',').Append((t == 0 ? 0 : 50 + 2 * x[t - 1]).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        string data = _kit.Write("leading.csv", csv.ToString());
        string model = _kit.PathOf("lead.keras");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "y", "--features", "x", "--ensemble", "3", "--out", _kit.PathOf("r"), "--save", model, "--json");
        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        Assert.Equal("x", json.GetProperty("features")[0].GetString());
        double network = json.GetProperty("network").GetProperty("mae").GetDouble(), linear = json.GetProperty("linear").GetProperty("mae").GetDouble();
        Assert.True(network < 0.5 * linear, $"network {network}, linear on y alone {linear}");

        var evaluated = CommandTestKit.Run("evaluate", model, data, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Error);
        Assert.Equal(json.GetProperty("model_scores").GetProperty("mae").GetDouble(), CommandTestKit.Json(evaluated.Output).GetProperty("model_scores").GetProperty("mae").GetDouble());
        // Without its feature column the file no longer matches the model.
        string noX = _kit.Write("no-x.csv", "y\n" + string.Join("\n", File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')[1])) + "\n");
        var refused = CommandTestKit.Run("predict", model, noX);
        Assert.Equal(2, refused.Code);
        Assert.Contains("'x' is not a column", refused.Error);
    }

    [Fact]
    public void A_flat_series_with_one_spike_gets_finite_intervals()
    {
        // Validation errors over a flat stretch would be unbounded multiples of a zero volatility without a floor.
        string data = _kit.Write("spike.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 100).Select(i => i == 40 ? "1000000" : "0")) + "\n");
        string report = _kit.PathOf("r");
        var (code, output, error) = CommandTestKit.Run("forecast", data, "--column", "value", "--ensemble", "2", "--epochs", "10", "--out", report, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(1.0, CommandTestKit.Json(output).GetProperty("coverage_80").GetDouble());
        var bounds = File.ReadAllLines(Path.Combine(report, "forecasts.csv")).Skip(1).SelectMany(l => l.Split(',').Skip(5).Take(4))
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture));
        Assert.All(bounds, b => Assert.True(double.IsFinite(b) && Math.Abs(b) < 1e6, $"bound {b}"));
    }

    [Fact]
    public void A_model_saved_by_the_older_lstm_forecast_is_refused_with_the_reason()
    {
        var (data, _) = _kit.SeasonalSeries(rows: 80);
        string model = _kit.PathOf("old.keras");
        var trained = CommandTestKit.Run("forecast", data, "--column", "value", "--ensemble", "1", "--epochs", "2", "--out", _kit.PathOf("r"), "--save", model);
        Assert.True(trained.Code == 0, trained.Error);
        // The forecast section an earlier version wrote: scalers, lookback and a stateful LSTM's batch, no forecaster state.
        File.WriteAllText(model + ".neurite.json", """
            {"format": "neurite-recipe", "version": 1, "task": "forecast", "forecast": {"column": "value", "date": "day",
             "features": [{"name": "value", "kind": "numeric", "mean": 10, "sd": 2}], "lookback": 6, "horizon": 1, "stateful": true, "batch_size": 2, "season": 12}}
            """);
        foreach (var command in new[] { "predict", "evaluate" })
        {
            var refused = CommandTestKit.Run(command, model, data);
            Assert.Equal(2, refused.Code);
            Assert.Contains("older neurite forecast (stacked LSTMs)", refused.Error);
            Assert.Contains("train and save the model again", refused.Error);
        }
    }

    private static JsonElement Sidecar(string model) => JsonDocument.Parse(File.ReadAllText(model + ".neurite.json")).RootElement.GetProperty("forecast");
}
