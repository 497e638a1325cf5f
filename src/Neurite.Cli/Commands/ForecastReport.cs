using System.Globalization;
using System.Text;
using Neurite.Forecasting;
using Neurite.Plots;

namespace Neurite.Cli.Commands;

/// <summary>The HTML report and forecasts.csv of <c>neurite forecast</c>.</summary>
internal static class ForecastReport
{
    private const int PlotWidth = 900, PlotHeight = 560;

    public static HtmlReport Build(ForecastOptions options, int rowsRead, ForecastSeries series, int split, Forecaster forecaster, ForecastSet test, ForecastScoreSet scores)
    {
        var state = forecaster.State;
        var labels = series.Labels;
        int n = series.Values.Length, h = state.Horizon;
        string what = options.Date is null ? "line" : "date";
        var report = new HtmlReport($"neurite forecast: {Path.GetFileName(options.DataPath)} -> {options.Column}");
        report.AddHeading("Data");
        report.AddKeyValues([
            ("file", options.DataPath),
            ("rows read", rowsRead.ToString(CultureInfo.InvariantCulture)),
            ("incomplete rows dropped", series.Dropped.ToString(CultureInfo.InvariantCulture)),
            ("order", options.Date is null ? "as in the file" : $"by '{options.Date}'"),
            ("training part", $"rows 1-{split} ({what} {labels[0]} to {labels[split - 1]}); the last {state.ValidationCount} of them validate"),
            ("test part", $"rows {split + 1}-{n} ({what} {labels[split]} to {labels[n - 1]})"),
            ("season", $"{state.Season} step(s) ({(options.Season is null ? "detected from the autocorrelation of the training part's changes; 1 means none; set --season to choose it" : "--season")})"),
            ("features", series.Features.Length == 0 ? "none: the forecast reads the series' own history" : $"{string.Join(", ", options.Features.Where(f => f != options.Column))}, read by the networks as changes from their last values"),
        ]);

        report.AddHeading("How the forecast is made");
        report.AddParagraph($"The forecast of the next {h} step(s) is {state.Describe()}. " +
            "Three forecasters were fitted on the training rows before the validation part: exponential smoothing (additive, damped or no trend; additive, multiplicative or no season; " +
            "parameters by least squares, the family by AICc), a linear autoregression (on levels, on changes from the last value, or on log-ratios to it, whichever forecast the validation part best; its lags by AICc), " +
            $"and {state.NetworkMembers} small networks ({state.NetworkHidden} ReLU units, seeds {options.Seed} on) that read the last {state.Lookback} values as changes from the last one and correct what the linear model misses, each stopped at its best validation loss; their median is the network's forecast. " +
            "Each of them, their equal-weight combinations and the naive forecasts then forecast the validation part, and the best of them on it is the forecast; the test part played no part in any choice. " +
            "Exponential smoothing and the linear model were then refitted on all training rows.");
        report.AddTable(["candidate", "validation MAE"], state.Candidates.Select(c => new[] { c.Name, ForecastErrors.Num(c.ValidationMae) }).ToList(),
            $"Every candidate on the validation part (rows {split - state.ValidationCount + 1}-{split}), best first");
        report.AddKeyValues([
            ("exponential smoothing", $"{state.Ets.Name}: alpha {Num(state.Ets.Alpha)}, beta {Num(state.Ets.Beta)}, gamma {Num(state.Ets.Gamma)}, phi {Num(state.Ets.Phi)}"),
            ("linear autoregression", $"{state.Linear.Lookback} value(s) in the {state.Linear.Form.Kind.ToString().ToLowerInvariant()} form"),
            ("networks", $"{state.NetworkMembers} of {state.NetworkHidden} ReLU units, {state.Lookback} values in, {h} out, trained on {state.NetworkWindows} windows; epochs kept {string.Join(", ", state.NetworkEpochs)}" +
                (state.NetworkWindows < Forecaster.MinNetworkWindows ? $"; with fewer than {Forecaster.MinNetworkWindows} windows the network is not a candidate" : "")),
            ("intervals", $"80% and 95%: the validation errors' quantiles (split conformal), in units of the mean absolute change over the last {state.VolatilityWindow} steps before each origin"),
        ]);
        report.AddPreformatted(forecaster.Network!.SummaryText());
        report.AddParagraph("The networks are saved joined as one Keras model: its outputs are the members' corrections side by side.");

        report.AddHeading("Test forecasts");
        var x = Enumerable.Range(1, n).Select(i => (double)i).ToArray();
        var forecastX = Enumerable.Range(0, test.Count).Select(i => (double)(test.FirstOrigin + i + 2)).ToArray();
        double[] First(double[,] f) => Enumerable.Range(0, test.Count).Select(i => f[i, 0]).ToArray();
        report.AddImage("forecast.png",
            Charts.SeriesWithForecast(x, series.Values, forecastX, First(test.Forecast), $"{options.Column}: forecast over the test part", options.Column,
                baseline: First(test.Parts[ForecastComponent.Persistence]), baselineName: "persistence", xLabel: $"row in time order (1 = {what} {labels[0]})",
                width: PlotWidth, height: PlotHeight, bands: [(First(test.Lower95), First(test.Upper95), "95% interval"), (First(test.Lower80), First(test.Upper80), "80% interval")]),
            $"The series with the {(h == 1 ? "one-step-ahead" : "first-step")} forecast over the test part (shaded), its 80% and 95% intervals, and persistence, in the units of '{options.Column}'.");
        report.AddImage("predicted-vs-actual.png",
            Charts.PredictedVsActual(scores.Actual.Select(a => a * state.Scale).ToArray(), Flatten(test.Forecast), $"{options.Column}: predicted against actual, test part", options.Column, width: PlotWidth, height: PlotHeight),
            "Each test forecast against the real value; the dashed line is a perfect forecast.");
        report.AddTable(ForecastErrors.Header, scores.Rows.Select(s => s.Row()).ToList(), $"Test scores in the units of '{options.Column}'");
        if (h > 1)
            report.AddTable(["step", "MAE"], scores.StepMae.Select((m, k) => new[] { (k + 1).ToString(CultureInfo.InvariantCulture), ForecastErrors.Num(m) }).ToList(), "Test MAE of the forecast by step ahead");
        report.AddParagraph($"Interval coverage on the test part: {CommandOutput.Percent(scores.Coverage80)} of the values lie in the 80% intervals and {CommandOutput.Percent(scores.Coverage95)} in the 95% ones. " +
            "MASE divides the MAE by the training part's mean one-step change, so below 1 beats the in-sample persistence error.");
        report.AddParagraph(scores.Verdict + " " + scores.BestSentence);
        report.AddParagraph("forecasts.csv beside this page lists every test forecast with its intervals, each part's forecast and the naive forecasts.");
        return report;
    }

    public static string Csv(ForecastSeries series, ForecastSet set, ForecasterState state, string column)
    {
        var parts = ForecastComponent.All.Where(set.Parts.ContainsKey).ToArray();
        var csv = new StringBuilder("origin,target,step,").Append(DataFile.CsvField(column)).Append(",forecast,lower80,upper80,lower95,upper95");
        foreach (var p in parts) csv.Append(',').Append(p);
        csv.Append('\n');
        for (int i = 0; i < set.Count; i++)
            for (int k = 0; k < state.Horizon; k++)
            {
                int origin = set.FirstOrigin + i, target = origin + k + 1;
                csv.Append(DataFile.CsvField(series.Labels[origin])).Append(',').Append(DataFile.CsvField(series.Labels[target])).Append(',').Append(k + 1).Append(',')
                   .Append(R(series.Values[target])).Append(',').Append(R(set.Forecast[i, k])).Append(',')
                   .Append(R(set.Lower80[i, k])).Append(',').Append(R(set.Upper80[i, k])).Append(',').Append(R(set.Lower95[i, k])).Append(',').Append(R(set.Upper95[i, k]));
                foreach (var p in parts) csv.Append(',').Append(R(set.Parts[p][i, k]));
                csv.Append('\n');
            }
        return csv.ToString();
    }

    private static double[] Flatten(double[,] values)
    {
        var flat = new double[values.Length];
        int i = 0;
        foreach (var v in values) flat[i++] = v;
        return flat;
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
